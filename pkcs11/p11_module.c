/* The module's own translation unit: everything else comes from
 * llavero_pkcs11_core, linked whole; pkcs11.map exports the C_* functions. */
#include "p11_internal.h"

/* Keeps C_GetFunctionList referenced from the module itself. */
CK_RV (*const p11_module_entry)(CK_FUNCTION_LIST_PTR_PTR) = C_GetFunctionList;

/* The module's entry points: C_GetFunctionList (2.40) and, for PKCS#11 3.0,
 * C_GetInterfaceList / C_GetInterface offering "PKCS 11" 3.0 and 2.40.
 * Only the C_* symbols are exported (pkcs11.map), so an application that
 * also loads another module never gets our functions through a dependency,
 * and we never hand out a dependency's. */
#include "p11_internal.h"

#include <string.h>

static CK_RV get_info_2_40(CK_INFO_PTR pInfo)
{
	return p11_get_info_version(pInfo, 2, 40);
}

/* Both tables are filled from the lists in p11_cryptoki.h. C_GetInfo reports
 * 3.0, which is right for the 3.0 table; the 2.40 table overrides it with
 * get_info_2_40. A designated initializer given twice keeps the last, so
 * .C_GetInfo is set after the list, with -Woverride-init silenced for it. */
#define ENTRY(name) .name = name,
static CK_FUNCTION_LIST_3_0 functions_3_0 = {
	.version = { 3, 0 },
	LLV_P11_FUNCTIONS_2_40(ENTRY)
	LLV_P11_FUNCTIONS_3_0_ADDED(ENTRY)
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
static CK_FUNCTION_LIST functions_2_40 = {
	.version = { 2, 40 },
	LLV_P11_FUNCTIONS_2_40(ENTRY)
	.C_GetInfo = get_info_2_40,
};
#pragma GCC diagnostic pop
#undef ENTRY

static CK_CHAR interface_name[] = "PKCS 11";

static CK_INTERFACE interfaces[] = {
	{ interface_name, &functions_3_0, 0 },
	{ interface_name, &functions_2_40, 0 },
};

#define N_INTERFACES (sizeof(interfaces) / sizeof(interfaces[0]))

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR ppFunctionList)
{
	if (!ppFunctionList)
		return CKR_ARGUMENTS_BAD;
	*ppFunctionList = &functions_2_40;
	return CKR_OK;
}

CK_RV C_GetInterfaceList(CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount)
{
	if (!pulCount)
		return CKR_ARGUMENTS_BAD;
	if (!pInterfacesList) {
		*pulCount = N_INTERFACES;
		return CKR_OK;
	}
	if (*pulCount < N_INTERFACES) {
		*pulCount = N_INTERFACES;
		return CKR_BUFFER_TOO_SMALL;
	}
	memcpy(pInterfacesList, interfaces, sizeof(interfaces));
	*pulCount = N_INTERFACES;
	return CKR_OK;
}

CK_RV C_GetInterface(CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                     CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags)
{
	if (!ppInterface)
		return CKR_ARGUMENTS_BAD;
	for (size_t i = 0; i < N_INTERFACES; i++) {
		const CK_VERSION *v = (const CK_VERSION *)interfaces[i].pFunctionList;

		if (pInterfaceName && strcmp((const char *)pInterfaceName, (const char *)interface_name) != 0)
			continue;
		if (pVersion && (pVersion->major != v->major || pVersion->minor != v->minor))
			continue;
		if ((interfaces[i].flags & flags) != flags)
			continue;
		*ppInterface = &interfaces[i];
		return CKR_OK;
	}
	/* No such interface: what SoftHSM and OpenSC answer too. */
	return CKR_ARGUMENTS_BAD;
}

/* p11_cryptoki.h: the Cryptoki types the module uses. p11-kit's pkcs11.h
 * (Debian) stops at 2.40; what PKCS#11 3.0 adds and we need (CK_INTERFACE,
 * the 3.0 function list, C_GetInterfaceList/C_GetInterface, the message
 * functions and C_LoginUser/C_SessionCancel) is defined here, with the
 * standard's names and layout, unless the system header already has it. */
#ifndef LLAVERO_PKCS11_P11_CRYPTOKI_H
#define LLAVERO_PKCS11_P11_CRYPTOKI_H

#define CRYPTOKI_COMPAT 1
#include <p11-kit/pkcs11.h>

#ifndef CKF_INTERFACE_FORK_SAFE
#define CKF_INTERFACE_FORK_SAFE 0x00000001UL

typedef struct CK_INTERFACE {
	CK_CHAR *pInterfaceName;
	CK_VOID_PTR pFunctionList;
	CK_FLAGS flags;
} CK_INTERFACE;
typedef CK_INTERFACE *CK_INTERFACE_PTR;
typedef CK_INTERFACE_PTR *CK_INTERFACE_PTR_PTR;
#endif

#ifndef CKF_END_OF_MESSAGE
#define CKF_END_OF_MESSAGE 0x00000001UL
#endif
#ifndef CKR_OPERATION_CANCEL_FAILED
#define CKR_OPERATION_CANCEL_FAILED 0x202UL
#endif

/* The function-list members in the standard's order, as X-macros: the 2.40
 * list (CK_FUNCTION_LIST) and what 3.0 appends to it. p11_interface.c fills
 * both of its tables from these, and CK_FUNCTION_LIST_3_0 below is laid out
 * from them, so the three cannot drift apart. */
#define LLV_P11_FUNCTIONS_2_40(X) \
	X(C_Initialize) \
	X(C_Finalize) \
	X(C_GetInfo) \
	X(C_GetFunctionList) \
	X(C_GetSlotList) \
	X(C_GetSlotInfo) \
	X(C_GetTokenInfo) \
	X(C_GetMechanismList) \
	X(C_GetMechanismInfo) \
	X(C_InitToken) \
	X(C_InitPIN) \
	X(C_SetPIN) \
	X(C_OpenSession) \
	X(C_CloseSession) \
	X(C_CloseAllSessions) \
	X(C_GetSessionInfo) \
	X(C_GetOperationState) \
	X(C_SetOperationState) \
	X(C_Login) \
	X(C_Logout) \
	X(C_CreateObject) \
	X(C_CopyObject) \
	X(C_DestroyObject) \
	X(C_GetObjectSize) \
	X(C_GetAttributeValue) \
	X(C_SetAttributeValue) \
	X(C_FindObjectsInit) \
	X(C_FindObjects) \
	X(C_FindObjectsFinal) \
	X(C_EncryptInit) \
	X(C_Encrypt) \
	X(C_EncryptUpdate) \
	X(C_EncryptFinal) \
	X(C_DecryptInit) \
	X(C_Decrypt) \
	X(C_DecryptUpdate) \
	X(C_DecryptFinal) \
	X(C_DigestInit) \
	X(C_Digest) \
	X(C_DigestUpdate) \
	X(C_DigestKey) \
	X(C_DigestFinal) \
	X(C_SignInit) \
	X(C_Sign) \
	X(C_SignUpdate) \
	X(C_SignFinal) \
	X(C_SignRecoverInit) \
	X(C_SignRecover) \
	X(C_VerifyInit) \
	X(C_Verify) \
	X(C_VerifyUpdate) \
	X(C_VerifyFinal) \
	X(C_VerifyRecoverInit) \
	X(C_VerifyRecover) \
	X(C_DigestEncryptUpdate) \
	X(C_DecryptDigestUpdate) \
	X(C_SignEncryptUpdate) \
	X(C_DecryptVerifyUpdate) \
	X(C_GenerateKey) \
	X(C_GenerateKeyPair) \
	X(C_WrapKey) \
	X(C_UnwrapKey) \
	X(C_DeriveKey) \
	X(C_SeedRandom) \
	X(C_GenerateRandom) \
	X(C_GetFunctionStatus) \
	X(C_CancelFunction) \
	X(C_WaitForSlotEvent)

#define LLV_P11_FUNCTIONS_3_0_ADDED(X) \
	X(C_GetInterfaceList) \
	X(C_GetInterface) \
	X(C_LoginUser) \
	X(C_SessionCancel) \
	X(C_MessageEncryptInit) \
	X(C_EncryptMessage) \
	X(C_EncryptMessageBegin) \
	X(C_EncryptMessageNext) \
	X(C_MessageEncryptFinal) \
	X(C_MessageDecryptInit) \
	X(C_DecryptMessage) \
	X(C_DecryptMessageBegin) \
	X(C_DecryptMessageNext) \
	X(C_MessageDecryptFinal) \
	X(C_MessageSignInit) \
	X(C_SignMessage) \
	X(C_SignMessageBegin) \
	X(C_SignMessageNext) \
	X(C_MessageSignFinal) \
	X(C_MessageVerifyInit) \
	X(C_VerifyMessage) \
	X(C_VerifyMessageBegin) \
	X(C_VerifyMessageNext) \
	X(C_MessageVerifyFinal)

/* The 3.0 functions, declared the standard's way. */
#define LLV_P11_DECLARE(name, args) \
	typedef CK_RV (*CK_##name) args; \
	CK_RV name args

#ifndef LLAVERO_P11_HAVE_3_0_DECLS
LLV_P11_DECLARE(C_GetInterfaceList, (CK_INTERFACE_PTR pInterfacesList, CK_ULONG_PTR pulCount));
LLV_P11_DECLARE(C_GetInterface, (CK_UTF8CHAR_PTR pInterfaceName, CK_VERSION_PTR pVersion,
                                 CK_INTERFACE_PTR_PTR ppInterface, CK_FLAGS flags));
LLV_P11_DECLARE(C_LoginUser, (CK_SESSION_HANDLE hSession, CK_USER_TYPE userType,
                              CK_UTF8CHAR_PTR pPin, CK_ULONG ulPinLen,
                              CK_UTF8CHAR_PTR pUsername, CK_ULONG ulUsernameLen));
LLV_P11_DECLARE(C_SessionCancel, (CK_SESSION_HANDLE hSession, CK_FLAGS flags));
LLV_P11_DECLARE(C_MessageEncryptInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                       CK_OBJECT_HANDLE hKey));
LLV_P11_DECLARE(C_EncryptMessage, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                   CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                                   CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pPlaintext,
                                   CK_ULONG ulPlaintextLen, CK_BYTE_PTR pCiphertext,
                                   CK_ULONG_PTR pulCiphertextLen));
LLV_P11_DECLARE(C_EncryptMessageBegin, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                        CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                                        CK_ULONG ulAssociatedDataLen));
LLV_P11_DECLARE(C_EncryptMessageNext, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                       CK_ULONG ulParameterLen, CK_BYTE_PTR pPlaintextPart,
                                       CK_ULONG ulPlaintextPartLen, CK_BYTE_PTR pCiphertextPart,
                                       CK_ULONG_PTR pulCiphertextPartLen, CK_FLAGS flags));
LLV_P11_DECLARE(C_MessageEncryptFinal, (CK_SESSION_HANDLE hSession));
LLV_P11_DECLARE(C_MessageDecryptInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                       CK_OBJECT_HANDLE hKey));
LLV_P11_DECLARE(C_DecryptMessage, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                   CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                                   CK_ULONG ulAssociatedDataLen, CK_BYTE_PTR pCiphertext,
                                   CK_ULONG ulCiphertextLen, CK_BYTE_PTR pPlaintext,
                                   CK_ULONG_PTR pulPlaintextLen));
LLV_P11_DECLARE(C_DecryptMessageBegin, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                        CK_ULONG ulParameterLen, CK_BYTE_PTR pAssociatedData,
                                        CK_ULONG ulAssociatedDataLen));
LLV_P11_DECLARE(C_DecryptMessageNext, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                       CK_ULONG ulParameterLen, CK_BYTE_PTR pCiphertextPart,
                                       CK_ULONG ulCiphertextPartLen, CK_BYTE_PTR pPlaintextPart,
                                       CK_ULONG_PTR pulPlaintextPartLen, CK_FLAGS flags));
LLV_P11_DECLARE(C_MessageDecryptFinal, (CK_SESSION_HANDLE hSession));
LLV_P11_DECLARE(C_MessageSignInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                    CK_OBJECT_HANDLE hKey));
LLV_P11_DECLARE(C_SignMessage, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                CK_BYTE_PTR pSignature, CK_ULONG_PTR pulSignatureLen));
LLV_P11_DECLARE(C_SignMessageBegin, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                     CK_ULONG ulParameterLen));
LLV_P11_DECLARE(C_SignMessageNext, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                    CK_ULONG ulParameterLen, CK_BYTE_PTR pData,
                                    CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                                    CK_ULONG_PTR pulSignatureLen));
LLV_P11_DECLARE(C_MessageSignFinal, (CK_SESSION_HANDLE hSession));
LLV_P11_DECLARE(C_MessageVerifyInit, (CK_SESSION_HANDLE hSession, CK_MECHANISM_PTR pMechanism,
                                      CK_OBJECT_HANDLE hKey));
LLV_P11_DECLARE(C_VerifyMessage, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                  CK_ULONG ulParameterLen, CK_BYTE_PTR pData, CK_ULONG ulDataLen,
                                  CK_BYTE_PTR pSignature, CK_ULONG ulSignatureLen));
LLV_P11_DECLARE(C_VerifyMessageBegin, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                       CK_ULONG ulParameterLen));
LLV_P11_DECLARE(C_VerifyMessageNext, (CK_SESSION_HANDLE hSession, CK_VOID_PTR pParameter,
                                      CK_ULONG ulParameterLen, CK_BYTE_PTR pData,
                                      CK_ULONG ulDataLen, CK_BYTE_PTR pSignature,
                                      CK_ULONG ulSignatureLen));
LLV_P11_DECLARE(C_MessageVerifyFinal, (CK_SESSION_HANDLE hSession));

/* CK_FUNCTION_LIST_3_0: the 2.40 list, then the 3.0 additions, in order. */
#define LLV_P11_MEMBER(name) CK_##name name;
typedef struct CK_FUNCTION_LIST_3_0 {
	CK_VERSION version;
	LLV_P11_FUNCTIONS_2_40(LLV_P11_MEMBER)
	LLV_P11_FUNCTIONS_3_0_ADDED(LLV_P11_MEMBER)
} CK_FUNCTION_LIST_3_0;
#undef LLV_P11_MEMBER
#endif /* LLAVERO_P11_HAVE_3_0_DECLS */

#endif

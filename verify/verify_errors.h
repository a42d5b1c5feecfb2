/* Error codes of libllavero-verify. Every rejection has its own code, a
 * stable identifier (for logs, APIs and tests) and a message in Spanish first
 * and English. Codes never change meaning; new ones are appended. */
#ifndef LLAVERO_VERIFY_ERRORS_H
#define LLAVERO_VERIFY_ERRORS_H

/* X(ENUM, value, "stable-id", "mensaje", "message") */
#define VERIFY_ERROR_LIST(X) \
	X(VERIFY_OK, 0, "ok", "Verificación correcta", "Verification succeeded") \
	X(VERIFY_ERR_INTERNAL, 1, "internal", "Error interno del verificador", "Internal verifier error") \
	X(VERIFY_ERR_NOMEM, 2, "no-memory", "Memoria insuficiente", "Out of memory") \
	X(VERIFY_ERR_ARGUMENT, 3, "bad-argument", "Argumento inválido o configuración incompleta", "Invalid argument or incomplete configuration") \
	/* Web eID authentication token */ \
	X(VERIFY_ERR_TOKEN_JSON, 10, "token-json", "El token de autenticación no es JSON válido", "The authentication token is not valid JSON") \
	X(VERIFY_ERR_TOKEN_FORMAT, 11, "token-format", "Formato de token no admitido (se espera web-eid:1.0 o web-eid:1.1)", "Unsupported token format (web-eid:1.0 or web-eid:1.1 expected)") \
	X(VERIFY_ERR_TOKEN_FIELD, 12, "token-field", "Falta un campo del token o tiene un tipo incorrecto", "A token field is missing or has the wrong type") \
	X(VERIFY_ERR_TOKEN_BASE64, 13, "token-base64", "Un campo base64 del token está mal formado", "A base64 field of the token is malformed") \
	X(VERIFY_ERR_TOKEN_ALGORITHM, 14, "token-algorithm", "Algoritmo de firma no admitido", "Unsupported signature algorithm") \
	X(VERIFY_ERR_TOKEN_ALG_MISMATCH, 15, "token-algorithm-mismatch", "El algoritmo del token no corresponde a la llave del certificado", "The token algorithm does not match the certificate key") \
	X(VERIFY_ERR_TOKEN_SIGNATURE, 16, "token-signature", "La firma del token no es válida para este origen y reto", "The token signature is not valid for this origin and nonce") \
	X(VERIFY_ERR_TOKEN_SIGNING_CERTS, 17, "token-signing-certificates", "Los certificados de firma del token (web-eid:1.1) son inválidos", "The token signing certificates (web-eid:1.1) are invalid") \
	X(VERIFY_ERR_ORIGIN, 18, "origin", "Origen inválido o no permitido", "Invalid or not allowed origin") \
	X(VERIFY_ERR_TOKEN_ORIGIN_MISMATCH, 19, "token-origin-mismatch", "El token fue firmado para otro origen o reto", "The token was signed for another origin or nonce") \
	/* nonces */ \
	X(VERIFY_ERR_NONCE_UNKNOWN, 20, "nonce-unknown", "Reto desconocido", "Unknown nonce") \
	X(VERIFY_ERR_NONCE_REUSED, 21, "nonce-reused", "El reto ya fue usado", "The nonce was already used") \
	X(VERIFY_ERR_NONCE_EXPIRED, 22, "nonce-expired", "El reto expiró", "The nonce expired") \
	X(VERIFY_ERR_NONCE_STORE_FULL, 23, "nonce-store-full", "Demasiados retos pendientes", "Too many pending nonces") \
	/* certificates */ \
	X(VERIFY_ERR_CERT_PARSE, 30, "certificate-parse", "El certificado está mal formado", "The certificate is malformed") \
	X(VERIFY_ERR_CERT_NOT_YET_VALID, 31, "certificate-not-yet-valid", "El certificado aún no es válido", "The certificate is not valid yet") \
	X(VERIFY_ERR_CERT_EXPIRED, 32, "certificate-expired", "El certificado expiró", "The certificate has expired") \
	X(VERIFY_ERR_CERT_UNTRUSTED, 33, "certificate-untrusted", "El certificado no fue emitido por una autoridad de confianza", "The certificate was not issued by a trusted authority") \
	X(VERIFY_ERR_CERT_CHAIN, 34, "certificate-chain", "La cadena de certificación no es válida", "The certificate chain is not valid") \
	X(VERIFY_ERR_CERT_KEY_USAGE, 35, "certificate-key-usage", "El certificado no permite firma digital", "The certificate does not allow digital signature") \
	X(VERIFY_ERR_CERT_EKU, 36, "certificate-eku", "El certificado no es para autenticación de cliente", "The certificate is not for client authentication") \
	X(VERIFY_ERR_CERT_CSD, 37, "certificate-csd", "Es un Certificado de Sello Digital (CSD): use su e.firma para entrar", "This is a digital seal certificate (CSD): sign in with your e.firma") \
	/* OCSP */ \
	X(VERIFY_ERR_OCSP_TRANSPORT, 40, "ocsp-transport", "No se pudo consultar al servicio OCSP", "The OCSP responder could not be reached") \
	X(VERIFY_ERR_OCSP_MALFORMED, 41, "ocsp-malformed", "Respuesta OCSP mal formada", "Malformed OCSP response") \
	X(VERIFY_ERR_OCSP_STATUS, 42, "ocsp-status", "El servicio OCSP no respondió con éxito", "The OCSP responder did not answer successfully") \
	X(VERIFY_ERR_OCSP_SIGNATURE, 43, "ocsp-signature", "La firma de la respuesta OCSP no es válida", "The OCSP response signature is not valid") \
	X(VERIFY_ERR_OCSP_RESPONDER, 44, "ocsp-responder", "El firmante de la respuesta OCSP no está autorizado", "The OCSP response signer is not authorized") \
	X(VERIFY_ERR_OCSP_NONCE, 45, "ocsp-nonce", "El nonce de la respuesta OCSP no corresponde", "The OCSP response nonce does not match") \
	X(VERIFY_ERR_OCSP_NOT_FOUND, 46, "ocsp-not-found", "La respuesta OCSP no trata de este certificado", "The OCSP response does not cover this certificate") \
	X(VERIFY_ERR_OCSP_STALE, 47, "ocsp-stale", "La respuesta OCSP está fuera de su periodo de validez", "The OCSP response is outside its validity window") \
	X(VERIFY_ERR_OCSP_REVOKED, 48, "ocsp-revoked", "El certificado fue revocado", "The certificate has been revoked") \
	X(VERIFY_ERR_OCSP_UNKNOWN, 49, "ocsp-unknown", "El servicio OCSP no conoce el certificado", "The OCSP responder does not know the certificate") \
	/* identity */ \
	X(VERIFY_ERR_IDENTITY_NAME, 50, "identity-name", "El certificado no tiene nombre del titular", "The certificate has no holder name") \
	X(VERIFY_ERR_IDENTITY_RFC, 51, "identity-rfc", "El RFC del certificado falta o está mal formado", "The certificate RFC is missing or malformed") \
	X(VERIFY_ERR_IDENTITY_CURP, 52, "identity-curp", "La CURP del certificado falta o está mal formada", "The certificate CURP is missing or malformed") \
	/* WebAuthn */ \
	X(VERIFY_ERR_WA_CLIENT_DATA, 60, "webauthn-client-data", "clientDataJSON mal formado", "Malformed clientDataJSON") \
	X(VERIFY_ERR_WA_TYPE, 61, "webauthn-type", "Tipo de operación WebAuthn incorrecto", "Wrong WebAuthn operation type") \
	X(VERIFY_ERR_WA_CHALLENGE, 62, "webauthn-challenge", "El reto WebAuthn no corresponde", "The WebAuthn challenge does not match") \
	X(VERIFY_ERR_WA_ORIGIN, 63, "webauthn-origin", "Origen WebAuthn no permitido", "WebAuthn origin not allowed") \
	X(VERIFY_ERR_WA_CROSS_ORIGIN, 64, "webauthn-cross-origin", "Llamada WebAuthn desde otro origen no permitida", "Cross-origin WebAuthn call not allowed") \
	X(VERIFY_ERR_WA_AUTH_DATA, 65, "webauthn-authenticator-data", "authenticatorData mal formado", "Malformed authenticatorData") \
	X(VERIFY_ERR_WA_RP_ID, 66, "webauthn-rp-id", "El rpIdHash no corresponde al RP ID", "The rpIdHash does not match the RP ID") \
	X(VERIFY_ERR_WA_USER_PRESENT, 67, "webauthn-user-present", "El autenticador no confirmó la presencia del usuario", "The authenticator did not assert user presence") \
	X(VERIFY_ERR_WA_USER_VERIFIED, 68, "webauthn-user-verified", "El autenticador no verificó al usuario", "The authenticator did not verify the user") \
	X(VERIFY_ERR_WA_ATTESTATION, 69, "webauthn-attestation-object", "attestationObject mal formado", "Malformed attestationObject") \
	X(VERIFY_ERR_WA_ATT_FORMAT, 70, "webauthn-attestation-format", "Formato de atestación no admitido", "Unsupported attestation format") \
	X(VERIFY_ERR_WA_ATT_STATEMENT, 71, "webauthn-attestation-statement", "Declaración de atestación inválida", "Invalid attestation statement") \
	X(VERIFY_ERR_WA_ATT_SIGNATURE, 72, "webauthn-attestation-signature", "La firma de la atestación no es válida", "The attestation signature is not valid") \
	X(VERIFY_ERR_WA_ATT_CERT, 73, "webauthn-attestation-certificate", "El certificado de atestación no cumple los requisitos", "The attestation certificate does not meet the requirements") \
	X(VERIFY_ERR_WA_ATT_AAGUID, 74, "webauthn-attestation-aaguid", "El AAGUID del certificado de atestación no corresponde", "The attestation certificate AAGUID does not match") \
	X(VERIFY_ERR_WA_ATT_UNTRUSTED, 75, "webauthn-attestation-untrusted", "La atestación no proviene de un fabricante de confianza", "The attestation does not come from a trusted manufacturer") \
	X(VERIFY_ERR_WA_NO_CREDENTIAL, 76, "webauthn-no-credential", "La respuesta no contiene una credencial", "The response contains no credential") \
	X(VERIFY_ERR_WA_COSE_KEY, 77, "webauthn-cose-key", "Llave pública COSE inválida o no admitida", "Invalid or unsupported COSE public key") \
	X(VERIFY_ERR_WA_SIGNATURE, 78, "webauthn-signature", "La firma de la aserción no es válida", "The assertion signature is not valid") \
	X(VERIFY_ERR_WA_COUNTER, 79, "webauthn-counter", "El contador de firmas retrocedió: posible llave clonada", "The signature counter went back: possible cloned key") \
	X(VERIFY_ERR_WA_CREDENTIAL_KEY, 80, "webauthn-credential-key", "La llave guardada de la credencial es inválida", "The stored credential key is invalid") \
	X(VERIFY_ERR_WA_RP_ID_PUBLIC_SUFFIX, 81, "webauthn-rp-id-public-suffix", "El RP ID es un sufijo público (como gob.mx o com.mx): ningún sitio puede usarlo", "The RP ID is a public suffix (such as gob.mx or com.mx): no site may use it")

enum verify_err {
#define VERIFY_X_ENUM(e, v, id, es, en) e = v,
	VERIFY_ERROR_LIST(VERIFY_X_ENUM)
#undef VERIFY_X_ENUM
};

/* Stable identifier ("nonce-reused"); "unknown-error" for a code not listed. */
const char *verify_error_id(int code);
/* Message in Spanish (the default) and in English. */
const char *verify_strerror(int code);
const char *verify_strerror_en(int code);
/* Message by language tag: "en..." gives English, anything else Spanish. */
const char *verify_strerror_lang(int code, const char *lang);

#endif

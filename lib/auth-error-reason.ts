// The vocabulary of refusals, apart from the error classes that carry it: a new check adds a
// reason here without touching how errors are built or rendered.

/** The RFC 6750 §3.1 error codes, plus RFC 6749's `temporarily_unavailable` for outages. */
export type AuthErrorCode = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'temporarily_unavailable';

/** Why a request was refused: bearer-guard's own stable, snake_case vocabulary. */
export type AuthErrorReason =
  // 401 without an error code (RFC 6750 §3.1): the client sent nothing to judge.
  | 'credentials_missing'
  // 400 invalid_request
  | 'authorization_malformed'
  | 'authorization_duplicated'
  | 'token_in_multiple_places'
  | 'parameter_repeated'
  | 'transport_not_allowed'
  // 401 invalid_token
  | 'malformed'
  | 'token_too_large'
  | 'header_invalid'
  | 'type_invalid'
  | 'algorithm_not_allowed'
  | 'kid_invalid'
  | 'key_not_found'
  | 'signature_invalid'
  | 'claim_missing'
  | 'claim_invalid'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'issued_in_future'
  | 'token_too_old'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'token_inactive'
  | 'token_revoked'
  | 'verification_failed'
  // 403 insufficient_scope
  | 'scope_missing'
  // 503
  | 'key_source_unavailable'
  | 'revocations_unavailable';

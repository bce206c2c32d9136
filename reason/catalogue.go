package reason

// The catalogue's codes. The constant names are for Go code; the string
// values are the contract.
const (
	// request: what the request presents, before any secret is checked
	RouteNotFound          Code = "route_not_found"
	TokenInQuery           Code = "token_in_query"
	CredentialsMissing     Code = "credentials_missing"
	CredentialsWrongHeader Code = "credentials_wrong_header"
	SchemeNotAccepted      Code = "scheme_not_accepted"
	SchemeMissing          Code = "scheme_missing"
	CredentialEmpty        Code = "credential_empty"
	BearerPrefixDoubled    Code = "bearer_prefix_doubled"
	CredentialQuoted       Code = "credential_quoted"
	CredentialWhitespace   Code = "credential_whitespace"
	CredentialTooLarge     Code = "credential_too_large"
	CredentialsAmbiguous   Code = "credentials_ambiguous"
	BasicEncodingInvalid   Code = "basic_encoding_invalid"
	BasicSeparatorMissing  Code = "basic_separator_missing"
	BasicCharactersInvalid Code = "basic_characters_invalid"
	ForwardAuthUntrusted   Code = "forward_auth_untrusted"
	ForwardedConflict      Code = "forwarded_headers_conflict"
	ForwardedMissing       Code = "forwarded_headers_missing"
	PathNotCanonical       Code = "path_not_canonical"

	// password
	InvalidCredentials Code = "invalid_credentials"
	UserUnknown        Code = "user_unknown"
	PasswordWrong      Code = "password_wrong"
	PasswordPrevious   Code = "password_previous"
	PasswordWhitespace Code = "password_whitespace"
	PasswordCapsLock   Code = "password_caps_lock"
	PasswordCheckBusy  Code = "password_check_busy"

	// api_key
	APIKeyMalformed   Code = "api_key_malformed"
	APIKeyUnknown     Code = "api_key_unknown"
	APIKeySecretWrong Code = "api_key_secret_wrong"
	APIKeyRevoked     Code = "api_key_revoked"
	KeyRotated        Code = "key_rotated"
	APIKeyExpired     Code = "api_key_expired"
	APIKeyInBasic     Code = "api_key_in_basic"

	// token
	TokenMalformed        Code = "token_malformed"
	TokenAlgorithm        Code = "token_algorithm_rejected"
	IssuerUntrusted       Code = "issuer_untrusted"
	KeyUnknown            Code = "key_unknown"
	TokenSignatureInvalid Code = "token_signature_invalid"
	TokenExpired          Code = "token_expired"
	TokenNotYetValid      Code = "token_not_yet_valid"
	TokenIssuedInFuture   Code = "token_issued_in_future"
	TokenClaimMissing     Code = "token_claim_missing"
	AudienceMismatch      Code = "audience_mismatch"
	IssuerNotAllowed      Code = "issuer_not_allowed"

	// account: states of users and keys
	AccountDisabled        Code = "account_disabled"
	PasswordExpired        Code = "password_expired"
	PasswordChangeRequired Code = "password_change_required"
	APIKeyDisabled         Code = "api_key_disabled"

	// throttle: repeated failures
	TooManyFailures           Code = "too_many_failures"
	TooManyFailuresCredential Code = "too_many_failures_credential"
	AccountLocked             Code = "account_locked"
	AccountLockedFromSource   Code = "account_locked_from_source"

	// session: browser sessions of the sign-in portal
	SessionUnknown          Code = "session_unknown"
	SessionIdleTimeout      Code = "session_idle_timeout"
	SessionExpired          Code = "session_expired"
	SessionRevoked          Code = "session_revoked"
	SessionStoreUnavailable Code = "session_store_unavailable"

	// two_factor: 2-step verification with authenticator codes
	SecondFactorRequired Code = "second_factor_required"
	CodeMalformed        Code = "code_malformed"
	CodeWrong            Code = "code_wrong"
	CodeExpired          Code = "code_expired"
	CodeReused           Code = "code_reused"
	CodeClockSkew        Code = "code_clock_skew"

	// portal: the sign-in pages' own protections
	RedirectNotAllowed Code = "redirect_not_allowed"
	FormTokenInvalid   Code = "form_token_invalid"

	// policy
	InsufficientScopeCode Code = "insufficient_scope"
	NetworkNotAllowed     Code = "network_not_allowed"

	// dependency
	IssuerUnavailable   Code = "issuer_unavailable"
	StoreUnavailable    Code = "store_unavailable"
	UpstreamUnavailable Code = "upstream_unavailable"
	InternalError       Code = "internal_error"
)

var catalogue = []Reason{
	// ---- request ----
	{Code: RouteNotFound, Status: 404, Category: "request", Visibility: Public,
		Title:   "No route",
		Message: "No route of this gateway matches the request's host and path.",
		Hint:    "Check the URL. An admin can add a route for this host and path prefix, or run `authgate check-config` to list the configured routes."},
	{Code: TokenInQuery, Status: 400, Category: "request", Visibility: Public, BearerError: InvalidRequest,
		Title:   "Token in URL",
		Message: "The request carries an access token in its URL, where proxies and logs record it.",
		Hint:    "Send the token in the Authorization header (`Authorization: Bearer <token>`) and rotate the token, since it may have been logged (RFC 6750 §2.3)."},
	{Code: CredentialsMissing, Status: 401, Category: "request", Visibility: Public,
		Title:   "Credentials missing",
		Message: "The request carries no credentials this route accepts.",
		Hint:    "Send credentials with one of the schemes in the WWW-Authenticate header. If the client did send them, a proxy or a redirect to another host may have removed the Authorization header."},
	{Code: CredentialsWrongHeader, Status: 401, Category: "request", Visibility: Public,
		Title:   "Credentials in the wrong header",
		Message: "The request carries what looks like a credential in a header this route does not read.",
		Hint:    "Move the credential to the header the route reads: `Authorization` with a scheme from the WWW-Authenticate header, or the route's API-key header."},
	{Code: SchemeNotAccepted, Status: 401, Category: "request", Visibility: Public,
		Title:   "Authentication scheme not accepted",
		Message: "The Authorization header uses a scheme this route does not accept.",
		Hint:    "Use one of the schemes listed in the WWW-Authenticate header (for example `Bearer` instead of `Basic`)."},
	{Code: SchemeMissing, Status: 400, Category: "request", Visibility: Public, BearerError: InvalidRequest,
		Title:   "Authorization scheme missing",
		Message: "The Authorization header holds a credential without a scheme name before it.",
		Hint:    "Put the scheme before the credential: `Authorization: Bearer <token>`, `Basic <base64>` or `ApiKey <key>`."},
	{Code: CredentialEmpty, Status: 400, Category: "request", Visibility: Public, BearerError: InvalidRequest,
		Title:   "Credential empty",
		Message: "The request names an authentication scheme but carries no credential after it.",
		Hint:    "Check the variable or secret that should hold the credential; it is probably empty or unset in the client's environment."},
	{Code: BearerPrefixDoubled, Status: 400, Category: "request", Visibility: Public, BearerError: InvalidRequest,
		Title:   "Bearer prefix doubled",
		Message: "The Authorization header says `Bearer` twice.",
		Hint:    "The stored token already includes the `Bearer ` prefix and the client adds it again; remove one of them."},
	{Code: CredentialQuoted, Status: 400, Category: "request", Visibility: Public, BearerError: InvalidRequest,
		Title:   "Credential in quotes",
		Message: "The credential is wrapped in quotation marks.",
		Hint:    "Remove the quotes; they usually come from copying a value out of JSON or a shell variable quoted twice."},
	{Code: CredentialWhitespace, Status: 400, Category: "request", Visibility: Public, BearerError: InvalidRequest,
		Title:   "Whitespace inside credential",
		Message: "The credential contains whitespace, which no valid token or key does.",
		Hint:    "Check for a line break or space introduced when the credential was copied or read from a file."},
	{Code: CredentialTooLarge, Status: 431, Category: "request", Visibility: Public, BearerError: InvalidRequest,
		Title:   "Credential too large",
		Message: "The credential header is larger than this gateway accepts.",
		Hint:    "Send a smaller token (fewer claims), or ask the admin to raise `limits.max_credential_bytes`."},
	{Code: CredentialsAmbiguous, Status: 400, Category: "request", Visibility: Public, BearerError: InvalidRequest,
		Title:   "More than one credential",
		Message: "The request carries more than one credential, so the gateway cannot tell which one to check.",
		Hint:    "Send exactly one credential: one Authorization header, or the API-key header, not both (RFC 6750 §3.1)."},
	{Code: BasicEncodingInvalid, Status: 400, Category: "request", Visibility: Public,
		Title:   "Basic credentials not base64",
		Message: "The Basic credentials are not valid base64.",
		Hint:    "Encode `user:password` with standard base64 (RFC 7617), e.g. `printf '%s' 'user:password' | base64`."},
	{Code: BasicSeparatorMissing, Status: 400, Category: "request", Visibility: Public,
		Title:   "Basic credentials without colon",
		Message: "The decoded Basic credentials have no colon between user name and password.",
		Hint:    "Encode `user:password` with the colon; a user name cannot contain a colon (RFC 7617 §2)."},
	{Code: BasicCharactersInvalid, Status: 400, Category: "request", Visibility: Public,
		Title:   "Basic credentials not UTF-8 text",
		Message: "The decoded Basic credentials are not UTF-8 text or contain control characters.",
		Hint:    "Send the user name and password as UTF-8 without control characters (RFC 7617 §2.1)."},

	{Code: ForwardAuthUntrusted, Status: 403, Category: "request", Visibility: Public,
		Title:   "Forward-auth caller not trusted",
		Message: "The forward-auth endpoint answers only the proxies listed in the gateway's trusted_proxies.",
		Hint:    "Admins: add the address of the proxy that calls /.authgate/verify (nginx, Traefik, Caddy) to trusted_proxies; clients must go through that proxy."},
	{Code: ForwardedConflict, Status: 400, Category: "request", Visibility: Public,
		Title:   "Forwarded headers disagree",
		Message: "The headers that describe the original request (X-Forwarded-Uri, X-Original-URI, X-Forwarded-Method, ...) disagree, so the gateway cannot tell which request to decide.",
		Hint:    "Admins: make the proxy set X-Forwarded-Method, -Host and -Uri itself, overriding whatever the client sent (see docs/forward-auth.md)."},

	{Code: ForwardedMissing, Status: 400, Category: "request", Visibility: Public,
		Title:   "Forwarded headers missing",
		Message: "The forward-auth call does not say which request to decide: it has no X-Forwarded-Uri, X-Original-URI or X-Original-URL header.",
		Hint:    "Admins: make the proxy set X-Forwarded-Method, -Host and -Uri on its call to /.authgate/verify (see docs/forward-auth.md)."},
	{Code: PathNotCanonical, Status: 400, Category: "request", Visibility: Public,
		Title:   "Path not canonical",
		Message: "The request path has dot segments, doubled slashes, encoded slashes or dots, backslashes, semicolons or NUL, which servers resolve differently.",
		Hint:    "Send the plain path (e.g. /orders/7 rather than /public/../orders/7 or /orders%2F7); a gateway cannot safely decide a path the application may read differently."},

	// ---- password ----
	{Code: InvalidCredentials, Status: 401, Category: "password", Visibility: Public,
		Title:   "Invalid credentials",
		Message: "The user name or password is not correct.",
		Hint:    "Check the user name and password. If they are right, the admin can look up the request id with `authgate explain`."},
	{Code: UserUnknown, Status: 401, Category: "password", Visibility: Verbose, Mask: InvalidCredentials,
		Title:   "Unknown user",
		Message: "No user of this name exists.",
		Hint:    "Check the user name, or ask an admin to create the user with `authgate users add`."},
	{Code: PasswordWrong, Status: 401, Category: "password", Visibility: Verbose, Mask: InvalidCredentials,
		Title:   "Wrong password",
		Message: "The password is not correct for this user.",
		Hint:    "Check the password, or ask an admin to set a new one with `authgate users set-password`."},
	{Code: PasswordPrevious, Status: 401, Category: "password", Visibility: Private, Mask: InvalidCredentials, VerboseMask: PasswordWrong,
		Title:   "Previous password",
		Message: "The password was this user's password before its last change.",
		Hint:    "An app, script or saved-password store still holds the old password; update it there."},
	{Code: PasswordWhitespace, Status: 401, Category: "password", Visibility: Private, Mask: InvalidCredentials, VerboseMask: PasswordWrong,
		Title:   "Password with surrounding whitespace",
		Message: "The password matches once the spaces or line breaks around it are removed.",
		Hint:    "The client sends a stray space or newline with the password, often from a file read without trimming; fix the client."},
	{Code: PasswordCapsLock, Status: 401, Category: "password", Visibility: Private, Mask: InvalidCredentials, VerboseMask: PasswordWrong,
		Title:   "Password typed with Caps Lock",
		Message: "The password matches with the case of every letter inverted.",
		Hint:    "The user typed it with Caps Lock on; tell them to switch it off."},
	{Code: PasswordCheckBusy, Status: 503, Category: "password", Visibility: Public, Retry: true,
		Title:   "Password check busy",
		Message: "The gateway is checking too many passwords at once and could not check this one in time.",
		Hint:    "Retry after the number of seconds in Retry-After. Admins: a burst of failed logins is usually the cause; see the sign-in log."},

	// ---- api_key ----
	{Code: APIKeyMalformed, Status: 401, Category: "api_key", Visibility: Public,
		Title:   "API key malformed",
		Message: "The API key does not have the form of a key issued by this gateway (`agk_<id>_<secret>`).",
		Hint:    "Check that the whole key was copied, and that it is a key for this gateway and not for another service."},
	{Code: APIKeyUnknown, Status: 401, Category: "api_key", Visibility: Verbose, Mask: InvalidCredentials,
		Title:   "Unknown API key",
		Message: "No API key with this id exists.",
		Hint:    "Check that the key belongs to this environment; an admin can list keys with `authgate keys list`."},
	{Code: APIKeySecretWrong, Status: 401, Category: "api_key", Visibility: Verbose, Mask: InvalidCredentials,
		Title:   "API key secret wrong",
		Message: "The API key's id exists but its secret part does not match.",
		Hint:    "The key was truncated or altered; copy the whole key again."},
	{Code: APIKeyRevoked, Status: 401, Category: "api_key", Visibility: Public,
		Title:   "API key revoked",
		Message: "This API key was revoked.",
		Hint:    "Ask the key's owner or an admin for a new key (`authgate keys create`)."},
	{Code: KeyRotated, Status: 401, Category: "api_key", Visibility: Public,
		Title:   "API key rotated out",
		Message: "This API key was replaced by a newer key and its overlap period has ended.",
		Hint:    "Use the key that replaced it; the admin can see which one with `authgate explain` or `authgate keys list`."},
	{Code: APIKeyInBasic, Status: 401, Category: "api_key", Visibility: Public,
		Title:   "API key sent as a user name",
		Message: "The Basic credentials carry an API key of this gateway as the user name.",
		Hint:    "Send the key in the X-API-Key header or as `Authorization: ApiKey <key>`, on a route that accepts api_key."},
	{Code: APIKeyExpired, Status: 401, Category: "api_key", Visibility: Public,
		Title:   "API key expired",
		Message: "This API key has passed its expiry date.",
		Hint:    "Ask for a new key or a rotation (`authgate keys rotate`)."},

	// ---- token ----
	{Code: TokenMalformed, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token malformed",
		Message: "The bearer token is not a well-formed JWT.",
		Hint:    "Check for truncation or encoding damage; a JWT is three base64url parts separated by dots."},
	{Code: TokenAlgorithm, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token algorithm rejected",
		Message: "The token is signed with an algorithm this issuer is not allowed to use.",
		Hint:    "Sign with an algorithm on the issuer's allow-list (EdDSA, ES256, ES384, RS256 or PS256 by default); `none` and HMAC are never accepted."},
	{Code: IssuerUntrusted, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token issuer not trusted",
		Message: "The token's issuer (iss) is not one this gateway trusts, or the token has no issuer.",
		Hint:    "Get a token from a configured issuer; an admin can add the issuer to `issuers:` in the configuration."},
	{Code: KeyUnknown, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token signing key unknown",
		Message: "The token's signing key (kid) is not in its issuer's published key set.",
		Hint:    "The issuer rotated its keys, or the token comes from another environment of the same issuer; get a fresh token."},
	{Code: TokenSignatureInvalid, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token signature invalid",
		Message: "The token's signature does not verify with its issuer's key.",
		Hint:    "The token was altered, or signed by another party using the same key id; get a new token from the issuer."},
	{Code: TokenExpired, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token expired",
		Message: "The token has expired.",
		Hint:    "Get a new token (refresh it). If it was issued moments ago, compare the issuer's clock with this gateway's."},
	{Code: TokenNotYetValid, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token not yet valid",
		Message: "The token's validity starts in the future (nbf).",
		Hint:    "The issuer's clock is probably ahead of this gateway's, or the token was minted for later use; check NTP on both."},
	{Code: TokenIssuedInFuture, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token issued in the future",
		Message: "The token's issue time (iat) is later than this gateway's clock allows.",
		Hint:    "The issuer's clock is ahead of this gateway's; the sign-in log records by how many seconds. Check NTP on both."},
	{Code: TokenClaimMissing, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token claim missing",
		Message: "The token lacks a claim this gateway requires (exp, or sub).",
		Hint:    "Configure the issuer to include the claim; tokens without an expiry are never accepted."},
	{Code: AudienceMismatch, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Token audience mismatch",
		Message: "The token was issued for another audience (aud) than this API.",
		Hint:    "Request a token for this API's audience; a token minted for another API cannot be reused here."},
	{Code: IssuerNotAllowed, Status: 401, Category: "token", Visibility: Public, BearerError: InvalidToken,
		Title:   "Issuer not allowed on this route",
		Message: "The token comes from a trusted issuer that this route does not accept.",
		Hint:    "Get a token from an issuer this route accepts; the admin can list them in the route's `policy.issuers`."},

	// ---- account ----
	{Code: AccountDisabled, Status: 401, Category: "account", Visibility: Verbose, Mask: InvalidCredentials,
		Title:   "Account disabled",
		Message: "This user account is disabled.",
		Hint:    "Ask an admin to enable the account (`authgate users enable`) if it should still sign in."},
	{Code: PasswordExpired, Status: 401, Category: "account", Visibility: Public,
		Title:   "Password expired",
		Message: "The password is correct but has expired.",
		Hint:    "Ask an admin to set a new password (`authgate users set-password`); passwords expire after `passwords.max_age`."},
	{Code: PasswordChangeRequired, Status: 401, Category: "account", Visibility: Public,
		Title:   "Password must be changed",
		Message: "The password is correct, but an admin asked for it to be changed before it is used again.",
		Hint:    "Ask an admin to set a new password (`authgate users set-password`)."},
	{Code: APIKeyDisabled, Status: 401, Category: "account", Visibility: Public,
		Title:   "API key disabled",
		Message: "This API key is disabled.",
		Hint:    "Ask the key's owner or an admin to enable it (`authgate keys enable`), or use another key."},

	// ---- throttle ----
	{Code: TooManyFailures, Status: 429, Category: "throttle", Visibility: Public, Retry: true,
		Title:   "Too many failed attempts",
		Message: "Too many failed sign-in attempts came from this source; further attempts are refused for a while.",
		Hint:    "Wait for the number of seconds in Retry-After, then retry with the right credentials. A client retrying a stale secret in a loop is the usual cause."},
	{Code: TooManyFailuresCredential, Status: 429, Category: "throttle", Visibility: Public, Retry: true,
		Title:   "Credential refused too often",
		Message: "This exact credential failed too many times; it is refused without being checked for a while.",
		Hint:    "The client keeps sending a wrong, expired or rotated-out secret; fix it in the client's configuration instead of retrying."},
	{Code: AccountLocked, Status: 429, Category: "throttle", Visibility: Verbose, Mask: TooManyFailures, Retry: true,
		Title:   "Account locked",
		Message: "This account is locked after failed sign-in attempts from several sources.",
		Hint:    "Wait for the number of seconds in Retry-After, or ask an admin to unlock it (`authgate users unlock`) once the attempts are understood."},
	{Code: AccountLockedFromSource, Status: 429, Category: "throttle", Visibility: Verbose, Mask: TooManyFailures, Retry: true,
		Title:   "Account locked for this source",
		Message: "Sign-in to this account from this network address is locked after repeated failures; other addresses are not affected.",
		Hint:    "Wait for the number of seconds in Retry-After, or ask an admin to unlock the account (`authgate users unlock`)."},

	// ---- session ----
	{Code: SessionUnknown, Status: 401, Category: "session", Visibility: Public,
		Title:   "Session unknown",
		Message: "The session cookie does not name a session of this gateway: it has ended, or it is from another gateway or environment.",
		Hint:    "Sign in again. If this happens at every request, check that all gateways share the session store (sessions.store: redis)."},
	{Code: SessionIdleTimeout, Status: 401, Category: "session", Visibility: Public,
		Title:   "Session timed out",
		Message: "The session ended after a period without activity.",
		Hint:    "Sign in again. Admins set the allowed inactivity with sessions.idle_timeout."},
	{Code: SessionExpired, Status: 401, Category: "session", Visibility: Public,
		Title:   "Session expired",
		Message: "The session reached its maximum lifetime.",
		Hint:    "Sign in again. Admins set the lifetime with sessions.absolute_timeout."},
	{Code: SessionRevoked, Status: 401, Category: "session", Visibility: Public,
		Title:   "Session ended elsewhere",
		Message: "The session was ended: signed out everywhere, the password was changed, or an admin ended it.",
		Hint:    "Sign in again with the current password."},
	{Code: SessionStoreUnavailable, Status: 503, Category: "session", Visibility: Public, Retry: true,
		Title:   "Session store unavailable",
		Message: "The gateway cannot reach its session store right now. You were not signed out.",
		Hint:    "Retry later. Admins: check the Redis server named in the redis: section."},

	// ---- two_factor ----
	{Code: SecondFactorRequired, Status: 401, Category: "two_factor", Visibility: Public,
		Title:   "2-step verification required",
		Message: "This route requires 2-step verification, which the credential presented has not passed.",
		Hint:    "Sign in through the sign-in page and enter the code from your authenticator app; a password alone (Basic) is not enough here."},
	{Code: CodeMalformed, Status: 400, Category: "two_factor", Visibility: Public,
		Title:   "Code not in the right form",
		Message: "A verification code is 6 digits, or a recovery code of 12 letters and digits.",
		Hint:    "Type the 6 digits your authenticator app shows now, without spaces, or one of your recovery codes."},
	{Code: CodeWrong, Status: 401, Category: "two_factor", Visibility: Public,
		Title:   "Wrong code",
		Message: "The verification code is not right.",
		Hint:    "Type the code your authenticator app shows for this account now; if it keeps failing, ask an admin to reset your 2-step verification (`authgate users reset-2fa`)."},
	{Code: CodeExpired, Status: 401, Category: "two_factor", Visibility: Public,
		Title:   "Code expired",
		Message: "The verification code was right a minute ago but has expired.",
		Hint:    "Wait for the app to show a new code and type that one."},
	{Code: CodeReused, Status: 401, Category: "two_factor", Visibility: Public,
		Title:   "Code already used",
		Message: "This verification code was already used; each code works once.",
		Hint:    "Wait for the app to show the next code (at most 30 seconds)."},
	{Code: CodeClockSkew, Status: 401, Category: "two_factor", Visibility: Public,
		Title:   "Device clock off",
		Message: "The verification code would be right if your device's clock were set differently: its clock is off by minutes.",
		Hint:    "Set the device's date and time to automatic (network time), then type the new code."},

	// ---- portal ----
	{Code: RedirectNotAllowed, Status: 400, Category: "portal", Visibility: Public,
		Title:   "Return address not allowed",
		Message: "The address to return to after signing in is not one this gateway sends people to.",
		Hint:    "Open the application's own address and sign in from there. Admins: add its host to portal.allowed_hosts."},
	{Code: FormTokenInvalid, Status: 403, Category: "portal", Visibility: Public,
		Title:   "Form expired",
		Message: "The form was not sent from this gateway's own page, or the page was open too long.",
		Hint:    "Reload the page and send the form again; allow cookies for this site."},

	// ---- policy ----
	{Code: InsufficientScopeCode, Status: 403, Category: "policy", Visibility: Public, BearerError: InsufficientScope,
		Title:   "Insufficient scope",
		Message: "The credential is valid but lacks a scope this route requires.",
		Hint:    "Request a token or key with the scopes named in the `scope` attribute of the WWW-Authenticate header."},
	{Code: NetworkNotAllowed, Status: 403, Category: "policy", Visibility: Public,
		Title:   "Source network not allowed",
		Message: "Requests from this network address are not allowed on this route.",
		Hint:    "Connect from an allowed network (VPN or office), or ask an admin to add the network to the route's `policy.networks`."},

	// ---- dependency ----
	{Code: IssuerUnavailable, Status: 503, Category: "dependency", Visibility: Public, Retry: true,
		Title:   "Token issuer unavailable",
		Message: "The gateway cannot fetch the token issuer's signing keys right now. Your credentials were not rejected.",
		Hint:    "Retry later. Admins: check that the issuer's JWKS or discovery URL is reachable from the gateway."},
	{Code: StoreUnavailable, Status: 503, Category: "dependency", Visibility: Public, Retry: true,
		Title:   "Credential store unavailable",
		Message: "The gateway cannot reach its user and key store right now. Your credentials were not rejected.",
		Hint:    "Retry later. Admins: check the store's database file or server and the gateway's log."},
	{Code: UpstreamUnavailable, Status: 502, Category: "dependency", Visibility: Public,
		Title:   "Upstream unavailable",
		Message: "The request was authenticated, but the application behind the gateway did not answer.",
		Hint:    "Admins: check that the route's upstream is running and reachable from the gateway."},
	{Code: InternalError, Status: 500, Category: "dependency", Visibility: Public,
		Title:   "Internal gateway error",
		Message: "The gateway failed to decide this request.",
		Hint:    "Admins: look the request id up in the gateway's log; this is a bug worth reporting."},
}

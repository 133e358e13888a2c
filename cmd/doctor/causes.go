// The known mistakes behind Intercom's 400, 401 and 403, each with its code
// and one sentence on how to fix it: the README's "Troubleshooting
// Intercom's 400, 401 and 403" list, in the tool. Keep the two in step.

package main

// Cause names what explains a hash or JWT. The codes are stable for
// scripts.
type Cause string

// The causes.
const (
	CauseMatch               Cause = "match"                 // it is right for that platform and identifier
	CauseWrongPlatformSecret Cause = "wrong_platform_secret" // made with another configured platform's secret
	CauseIdentifierMismatch  Cause = "identifier_mismatch"   // over the email while a user_id is sent, or the reverse
	CauseIdentifierChanged   Cause = "identifier_changed"    // over the identifier before the app changed its case or white space
	CauseUnknownSecret       Cause = "unknown_secret"        // no configured secret explains the hash
	CauseJWTExpired          Cause = "jwt_expired"           // signed right, but past its exp
	CauseJWTBadSignature     Cause = "jwt_bad_signature"     // not an HS256 JWT signed with any configured secret
	CauseJWTWithoutUserID    Cause = "jwt_without_user_id"   // signed right, but without the user_id claim Intercom requires
	CauseUndetermined        Cause = "undetermined"          // a secret the answer depends on could not be read

	// Causes that only Intercom's status (-status) tells.
	CauseJWTMissing                Cause = "jwt_missing"                 // 400: the app sent no JWT
	CauseHashWhereJWTRequired      Cause = "hash_where_jwt_required"     // 400: a hash where Messenger Security takes only a JWT
	CauseSentAfterLogin            Cause = "sent_after_login"            // 400, 401: right values that did not reach Intercom with the login
	CauseUpdateWithoutVerification Cause = "update_without_verification" // 403: a web update with neither user_hash nor intercom_user_jwt
)

// fixes holds the one sentence on how to fix each cause.
var fixes = map[Cause]string{
	CauseWrongPlatformSecret: "Sign with the secret of the platform the app runs on: send that platform to the API (Cordova's device.platform, Capacitor's getPlatform()), and check that IOS_SECRET_ID, ANDROID_SECRET_ID and WEB_SECRET_ID each hold that platform's secret from Intercom's settings.",
	CauseIdentifierMismatch:  "Log the user in to Intercom with exactly the user_id and email the API returned: Intercom checks the hash against the user_id whenever one is sent, and against the email only when no user_id is.",
	CauseIdentifierChanged:   "Pass the user_id and email to Intercom byte for byte as the API returned them: no trimming, no change of case.",
	CauseUnknownSecret:       "The hash was made with a secret this configuration does not have (another workspace or environment, a rotated-out secret, or a hash from older server code): use the hash the API returns, and check that each platform's secret in Secrets Manager is the current one in Intercom's settings.",
	CauseJWTExpired:          "Fetch a new user_jwt from the API at each login and before user_jwt_expires_at; never keep one past its exp.",
	CauseJWTBadSignature:     "Pass the user_jwt exactly as the API returned it; if it is, the secret that signed it is not one this configuration has (see unknown_secret).",
	CauseJWTWithoutUserID:    "Send the user_jwt the API returns: it always carries the user_id, and the API issues none for a user it knows only by email, so with Messenger Security enforced every user needs a user_id (see USER_ID_CLAIM).",
	CauseUndetermined:        "Fix the failed secret checks above, then run the doctor again.",

	CauseJWTMissing: "Set the user_jwt the API returns before the login, at every launch: setUserJwt before loginUser/loginIdentifiedUser/loginUserWithUserAttributes/registerIdentifiedUser " +
		"(iOS 18.7+, Android 15.16+, React Native, Flutter, Capacitor), intercom_user_jwt in the web boot; the Cordova plugin cannot send one, so do not enforce Messenger Security for a Cordova app's platforms.",
	CauseHashWhereJWTRequired: "Send the user_jwt the API returns in the user_hash's place (setUserJwt before the login, intercom_user_jwt on the web): with Messenger Security enforced Intercom refuses a login with only a hash; " +
		"or keep enforcement off for this platform until every app version in use sends the JWT.",
	CauseSentAfterLogin: matchButRejected,
	CauseUpdateWithoutVerification: "Pass user_hash or intercom_user_jwt, as the API returned them, in every Intercom('boot') and Intercom('update') that carries a user_id or email, not only the first " +
		"(keep them in the one settings object the app passes each time), and boot again with them after Intercom('shutdown').",
}

// matchButRejected is what is left when the doctor finds the hash right
// and Intercom still refuses it: the mistakes it cannot see from here.
// It is also the fix of sent_after_login, which -status names.
const matchButRejected = "the app sets the hash (or JWT) after logging the user in, so call setUserHash/setUserJwt first; " +
	"or the secret in Secrets Manager is not the one in Intercom's settings for this platform and workspace: " +
	"compare the fingerprint above with `printf %s \"$SECRET\" | sha256sum | cut -c1-8` of Intercom's."

package portal

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/authgate/authgate"
	"github.com/authgate/authgate/accounts"
	"github.com/authgate/authgate/reason"
	"github.com/authgate/authgate/verify/totp"
)

// pendingLifetime is how long an enrollment page stays valid: its secret
// travels in the form, sealed, until a code confirms it.
const pendingLifetime = 15 * time.Minute

// enrollPage shows a new authenticator secret as a QR code and as text.
// The secret is stored only once a code from the app confirms it; until
// then it travels in the form, sealed for this user and this quarter hour.
func (p *Portal) enrollPage(w http.ResponseWriter, r *http.Request) {
	rd := r.URL.Query().Get("rd")
	st, ok := p.passwordSession(w, r, rd)
	if !ok {
		return
	}
	if st.user.Enrolled() {
		redirect(w, r, p.withReturn("two-step", rd))
		return
	}
	secret, err := totp.NewSecret()
	if err != nil {
		http.Error(w, "no randomness for a new secret", http.StatusInternalServerError)
		return
	}
	data, err := p.enrollData(w, r, st.user.Name, secret, rd)
	if err != nil {
		p.cfg.Logger.Error("portal: cannot make the enrollment page", "err", err)
		http.Error(w, "the enrollment page could not be made", http.StatusInternalServerError)
		return
	}
	p.render(w, http.StatusOK, "enroll", data)
}

// enrollData fills the enrollment page for secret.
func (p *Portal) enrollData(w http.ResponseWriter, r *http.Request, user string, secret []byte, rd string) (pageData, error) {
	uri := totp.URI(secret, p.cfg.Issuer, user)
	png, err := totp.QRCode(uri, 200)
	if err != nil {
		return pageData{}, err
	}
	pending, err := p.seal(user, secret)
	if err != nil {
		return pageData{}, err
	}
	return pageData{Heading: "Set up 2-step verification", Sub: "Protect " + user + " with a code from your phone.",
		CSRF: p.formToken(w, r), Return: rd, User: user,
		QR:      template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Secret:  totp.Base32(secret),
		Pending: pending}, nil
}

// enroll confirms a new secret with a code from the app, stores it with
// fresh recovery codes, and shows the codes once.
func (p *Portal) enroll(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	rd := r.PostFormValue("rd")
	st, ok := p.passwordSession(w, r, rd)
	if !ok {
		return
	}
	if st.user.Enrolled() {
		redirect(w, r, p.withReturn("two-step", rd))
		return
	}
	secret, openErr := p.open(st.user.Name, r.PostFormValue("pending"))
	_, d := p.checkForm(r, rd)
	if d == nil && openErr != nil {
		d = p.cfg.Engine.Refuse(p.request(r), p.cfg.Route, authgate.Check{Name: "portal.enroll", Result: authgate.Fail,
			Reason: reason.FormTokenInvalid, Detail: "the enrollment form's secret does not open: " + openErr.Error()})
	}
	if d == nil {
		cred := authgate.Credential{Method: authgate.MethodTOTP, Header: "enrollment form", Username: st.user.Name, Secret: r.PostFormValue("code")}
		d = p.cfg.Engine.DecideCredential(r.Context(), p.request(r), p.cfg.Route, cred, totp.PendingVerifier{Secret: secret, Replay: p.cfg.Sessions, Now: p.cfg.Now})
		wait(r.Context(), d.Delay)
	}
	if !d.Allowed {
		if secret == nil {
			if secret, openErr = totp.NewSecret(); openErr != nil {
				http.Error(w, "no randomness for a new secret", http.StatusInternalServerError)
				return
			}
		}
		data, err := p.enrollData(w, r, st.user.Name, secret, rd)
		if err != nil {
			http.Error(w, "the enrollment page could not be made", http.StatusInternalServerError)
			return
		}
		var status int
		data.Error, status = p.refusal(d)
		p.render(w, status, "enroll", data)
		return
	}
	codes, err := p.store(r.Context(), st.user.Name, secret)
	data := pageData{Heading: "2-step verification is on", CSRF: p.formToken(w, r), Return: rd, User: st.user.Name}
	if errors.Is(err, accounts.ErrState) {
		// Another page enrolled this user meanwhile; that app stays.
		redirect(w, r, p.withReturn("two-step", rd))
		return
	}
	if err != nil {
		p.unavailable(w, r, "recovery", data, reason.StoreUnavailable, err)
		return
	}
	data.Codes = codes
	if err := p.startSession(w, r, st.user.Name, p.cfg.Now(), st.id); err != nil {
		// The enrollment is stored: its codes are shown once, now, even
		// though this browser must sign in again.
		p.cfg.Logger.Error("portal: 2-step verification is on, but the session store failed; the user signs in again", "request_id", requestID(r), "err", err)
		data.Notice = "2-step verification is on, but your session could not be updated: sign in again after saving these codes."
	}
	p.render(w, http.StatusOK, "recovery", data)
}

// store seals and stores a confirmed secret with new recovery codes, and
// returns the codes to show.
func (p *Portal) store(ctx context.Context, user string, secret []byte) ([]string, error) {
	codes, err := totp.NewRecoveryCodes(p.cfg.RecoveryCodes)
	if err != nil {
		return nil, err
	}
	digests := make([][]byte, len(codes))
	for i, c := range codes {
		digests[i] = totp.RecoveryDigest(p.cfg.Key, c)
	}
	sealed, err := p.cfg.Sealer.Seal(user, secret)
	if err != nil {
		return nil, err
	}
	return codes, p.cfg.Accounts.EnrollTOTP(ctx, user, sealed, digests)
}

// seal makes the form field that carries a pending secret: the secret
// with its end of validity, sealed for user.
func (p *Portal) seal(user string, secret []byte) (string, error) {
	b := binary.BigEndian.AppendUint64(nil, uint64(p.cfg.Now().Add(pendingLifetime).Unix()))
	sealed, err := p.cfg.Sealer.Seal("pending:"+user, append(b, secret...))
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sealed), nil
}

// open is seal's inverse; it fails for another user's field, a changed
// one, or one past its validity.
func (p *Portal) open(user, field string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(field)
	if err != nil {
		return nil, fmt.Errorf("not base64url")
	}
	plain, err := p.cfg.Sealer.Open("pending:"+user, raw)
	if err != nil || len(plain) < 8+10 {
		return nil, fmt.Errorf("sealed for another user or altered")
	}
	if until := time.Unix(int64(binary.BigEndian.Uint64(plain)), 0); !p.cfg.Now().Before(until) {
		return nil, fmt.Errorf("the page expired %s", authgate.Ago(p.cfg.Now(), until))
	}
	return plain[8:], nil
}

// Package doctor diagnoses a refused HTTP request from the client's side:
// it sends the request once, follows redirects itself, reads every challenge,
// problem document and clock it is shown, decodes the token without trusting
// it, and names the likely causes as codes of authgate's reason catalogue,
// ranked, each with its fix. It also lints a token offline.
//
// The diagnosis is a plain value (Report); rendering it as text or JSON is
// separate (WriteText, WriteJSON), and nothing here knows about the CLI.
package doctor

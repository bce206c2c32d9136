package integration

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// TestTraefikConfigIsWellFormed checks what can be checked without Traefik,
// which is not packaged here: docs/forward-auth/traefik.yml is YAML with the
// middleware, router and service the documentation describes.
func TestTraefikConfigIsWellFormed(t *testing.T) {
	var doc struct {
		HTTP struct {
			Middlewares map[string]struct {
				ForwardAuth *struct {
					Address             string   `yaml:"address"`
					TrustForwardHeader  bool     `yaml:"trustForwardHeader"`
					AuthResponseHeaders []string `yaml:"authResponseHeaders"`
				} `yaml:"forwardAuth"`
				Headers *struct {
					CustomRequestHeaders map[string]string `yaml:"customRequestHeaders"`
				} `yaml:"headers"`
			} `yaml:"middlewares"`
			Routers map[string]struct {
				EntryPoints []string `yaml:"entryPoints"`
				Rule        string   `yaml:"rule"`
				Middlewares []string `yaml:"middlewares"`
				Service     string   `yaml:"service"`
			} `yaml:"routers"`
			Services map[string]struct {
				LoadBalancer struct {
					Servers []struct {
						URL string `yaml:"url"`
					} `yaml:"servers"`
				} `yaml:"loadBalancer"`
			} `yaml:"services"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal([]byte(render(t, "traefik.yml", ":8000", "127.0.0.1:8080", "127.0.0.1:9000")), &doc); err != nil {
		t.Fatal(err)
	}
	fa := doc.HTTP.Middlewares["authgate"].ForwardAuth
	if fa == nil {
		t.Fatal("no forwardAuth middleware named authgate")
	}
	if fa.Address != "http://127.0.0.1:8080/.authgate/verify" || fa.TrustForwardHeader {
		t.Errorf("forwardAuth address %q trustForwardHeader %v", fa.Address, fa.TrustForwardHeader)
	}
	if diff := cmp.Diff([]string{"X-Authgate-Subject", "X-Authgate-Method", "X-Authgate-Scopes", "X-Request-Id"}, fa.AuthResponseHeaders); diff != "" {
		t.Errorf("authResponseHeaders (-want +got):\n%s", diff)
	}
	strip := doc.HTTP.Middlewares["authgate-strip-credentials"].Headers
	if strip == nil || cmp.Diff(map[string]string{"Authorization": "", "X-API-Key": ""}, strip.CustomRequestHeaders) != "" {
		t.Errorf("credential-stripping middleware = %+v", strip)
	}
	r, ok := doc.HTTP.Routers["app"]
	if !ok || cmp.Diff([]string{"authgate", "authgate-strip-credentials"}, r.Middlewares) != "" || r.Service != "app" {
		t.Errorf("router app = %+v; want authgate before the stripping, then service app", r)
	}
	s := doc.HTTP.Services["app"].LoadBalancer.Servers
	if len(s) != 1 || s[0].URL != "http://127.0.0.1:9000" {
		t.Errorf("service app servers = %+v", s)
	}
}

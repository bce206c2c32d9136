package config

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/errors/*.golden from the current output")

// TestErrorGoldens parses each bad configuration in testdata/errors and
// compares the printed error with the .golden file beside it. Run
// `go test ./config -update` to rewrite the goldens after a deliberate
// change, then read the diff.
func TestErrorGoldens(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			// A fixed name keeps the goldens free of the machine's paths.
			_, err = Parse(filepath.Base(file), data)
			if err == nil {
				t.Fatalf("Parse accepted a bad configuration")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Parse returned %T, want config.Errors", err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./config -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("error text differs from %s (-want +got):\n%s", golden, diff)
			}
			for _, e := range errs {
				if e.Line < 1 || e.Msg == "" || e.Fix == "" {
					t.Errorf("problem without line, message or fix: %#v", e)
				}
			}
		})
	}
}

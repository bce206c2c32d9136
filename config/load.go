package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Load reads the configuration file at path and parses it with Parse. Any
// failure, including an unreadable file, is returned as a config.Errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		fix := "check the path and the file's permissions"
		if errors.Is(err, os.ErrNotExist) {
			fix = "check the path, or write a configuration there (see authgate check-config)"
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already at the start of the message
		}
		return nil, Errors{{File: path, Msg: "cannot read the configuration: " + err.Error(), Fix: fix}}
	}
	return Parse(path, data)
}

// Parse parses and validates the YAML configuration data. name is the
// file's path: it appears in every message, and relative paths in the file
// resolve against its directory. When the configuration is not valid Parse
// returns a config.Errors holding every problem found, sorted by line.
func Parse(name string, data []byte) (*Config, error) {
	dir, err := filepath.Abs(filepath.Dir(name))
	if err != nil {
		dir = filepath.Dir(name)
	}
	d := &decoder{file: name, dir: dir}
	var cfg *Config
	if root := d.document(data); root != nil {
		cfg = d.config(root)
		d.crossCheck(cfg)
	}
	if len(d.errs) > 0 {
		d.errs.sortByLine()
		return nil, d.errs
	}
	return cfg, nil
}

// document parses data as a single YAML document and returns its top-level
// node, or nil after reporting why there is none.
func (d *decoder) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	err := dec.Decode(&doc)
	if err != nil && err != io.EOF {
		d.errs = append(d.errs, syntaxError(d.file, data, err))
		return nil
	}
	root := documentRoot(&doc)
	if err == io.EOF || root == nil {
		d.add(1, "start with at least one route, e.g. routes: [{name: app, upstream: \"http://127.0.0.1:9000\", accept: [basic]}]", "the configuration is empty")
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		d.errs = append(d.errs, syntaxError(d.file, data, err))
	case documentRoot(&next) != nil:
		d.add(next.Line, "keep one configuration per file: remove the --- and what follows, or merge it into the first document", "the file holds a second YAML document")
	}
	if root.Kind != yaml.MappingNode {
		d.add(root.Line, "start lines with keys such as listen:, issuers: and routes:", "the configuration must be a mapping of keys, not %s", describe(root))
		return nil
	}
	return root
}

// documentRoot returns the content of a document node, or nil if it holds
// nothing but comments or null.
func documentRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return deref(doc)
	}
	return deref(doc.Content[0])
}

// resolvePath makes a path from the file absolute against base.
func (d *decoder) resolvePath(key, p string, line int, base string) string {
	baseName := "the configuration file's directory"
	if base != d.dir {
		baseName = "data_dir"
	}
	switch {
	case p == "":
		d.add(line, "write a path, or leave the key out for the default", "%s is empty", key)
		return ""
	case p == "~" || len(p) > 1 && p[:2] == "~/":
		d.add(line, "write the full path, or one relative to "+baseName, "%s %q starts with ~, which is not expanded", key, p)
		return ""
	case filepath.IsAbs(p):
		return filepath.Clean(p)
	default:
		return filepath.Join(base, p)
	}
}

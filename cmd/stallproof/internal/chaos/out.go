package chaos

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// WriteFiles writes the report into dir (created if needed) as
// chaos.json and the chart chaos.svg, and returns their paths.
func WriteFiles(dir string, rep *Report) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	js, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, err
	}
	jsonPath := filepath.Join(dir, "chaos.json")
	if err := os.WriteFile(jsonPath, append(js, '\n'), 0o644); err != nil {
		return nil, err
	}
	svgPath := filepath.Join(dir, "chaos.svg")
	f, err := os.Create(svgPath)
	if err != nil {
		return nil, err
	}
	if err := WriteSVG(f, rep); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return []string{jsonPath, svgPath}, nil
}

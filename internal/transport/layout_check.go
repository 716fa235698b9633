package transport

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/v1/types"
)

// `-t oci:DIR` names a folder, and folders named like an output folder
// often hold something else: a web project has its own index.json. Writing
// an image there would add blobs/ and replace that index.json with a
// made-up one (schemaVersion 0, no oci-layout file), which is neither the
// project any more nor a layout any tool reads. So a folder is written
// only when it is new, empty, or already an OCI layout, and checked before
// anything is written into it.

// notLayout is the error for a folder (or an archive's content) that is not
// an OCI layout, naming it as the user wrote it and saying what to do.
func notLayout(ref Ref, problem string) error {
	if ref.Kind == KindOCIArchive {
		return fmt.Errorf("%s is not an OCI layout archive (%s): pick a new file, or an existing OCI archive", ref.Path, problem)
	}
	return fmt.Errorf("%s is not an OCI layout (%s): pick an empty or new folder, or an existing OCI layout", ref.Path, problem)
}

// layoutTargetProblem says why dir cannot take an image as an OCI layout,
// or "" when it can: it does not exist, is empty, or is a layout (a valid
// oci-layout file and, if there is one yet, an index.json that is an OCI
// image index). An oci-layout file without index.json is a layout whose
// creation was cut short. err is for failures to look (permissions).
func layoutTargetProblem(dir string) (problem string, err error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", err
	case !fi.IsDir():
		return "it is a file, not a folder", nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	if len(entries) == 0 {
		return "", nil
	}
	raw, err := os.ReadFile(filepath.Join(dir, "oci-layout"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "it has files but no oci-layout file", nil
	case err != nil:
		return "", err
	}
	var ol struct {
		Version string `json:"imageLayoutVersion"`
	}
	if err := json.Unmarshal(raw, &ol); err != nil || ol.Version == "" {
		return "its oci-layout file has no imageLayoutVersion", nil
	}
	return indexProblem(dir)
}

// indexProblem says why dir's index.json is not an OCI image index, or ""
// when it is one or there is none.
func indexProblem(dir string) (problem string, err error) {
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", nil
	case err != nil:
		return "", err
	}
	// Only what makes it an index: its descriptors are checked where they
	// are used (checkIndexJSON, updateIndex).
	var im struct {
		SchemaVersion int64           `json:"schemaVersion"`
		MediaType     types.MediaType `json:"mediaType"`
		Manifests     []any           `json:"manifests"`
	}
	err = json.Unmarshal(raw, &im)
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return fmt.Sprintf("its index.json is not an OCI image index: it holds a JSON %s", typeErr.Value), nil
	case err != nil:
		return fmt.Sprintf("its index.json is not an OCI image index: %v", err), nil
	case im.SchemaVersion != 2:
		return fmt.Sprintf("its index.json is not an OCI image index: schemaVersion %d, want 2", im.SchemaVersion), nil
	case im.MediaType != "" && !im.MediaType.IsIndex():
		return fmt.Sprintf("its index.json is not an OCI image index: mediaType %s", im.MediaType), nil
	}
	return "", nil
}

package main

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// zipCmd writes the named files, flat and executable, into a zip for
// upload to Lambda or SCF. (The zip command is not on every machine.)
func zipCmd(ctx context.Context, args []string) error {
	fs := newFlags("zip")
	out := fs.String("o", "", "the zip file to write")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		return fmt.Errorf("usage: callfn zip -o OUT FILE...") //lint:ignore ST1005 a usage line, printed as it is
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	for _, name := range fs.Args() {
		if err := addFile(zw, name); err != nil {
			f.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func addFile(zw *zip.Writer, name string) error {
	src, err := os.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	hdr := &zip.FileHeader{Name: filepath.Base(name), Method: zip.Deflate}
	hdr.SetMode(0o755)
	dst, err := zw.CreateHeader(hdr)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	return err
}

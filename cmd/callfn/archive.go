package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// archive runs the records archive by hand, as the records function's
// schedule does: it pages through Tencent's records of the window and
// stores them in the table, showing a progress bar on stderr and a summary
// at the end.
//
//	callfn archive [--since 7d] [--page-size 100] [--rate 150]
func archive(ctx context.Context, args []string) error {
	return archiveTo(ctx, args, os.Stdout, os.Stderr)
}

// archiveTo is archive writing its summary to stdout and its progress to
// stderr.
func archiveTo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("archive")
	since := fs.String("since", "", "archive calls started this long ago until now (e.g. 7d, 36h; at most Tencent's 7 days); default: resume, or since the last run")
	pageSize := fs.Int("page-size", records.DefaultArchivePageSize, "records per request (1..100)")
	rate := fs.Float64("rate", records.DefaultRate, "requests per second at most (Tencent allows 200)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var o records.ArchiveOptions
	if *since != "" {
		d, err := records.ParseSince(*since)
		if err != nil {
			return err
		}
		if d > rest.RecordRetention {
			return fmt.Errorf("--since %s: Tencent keeps call records for %d days, so the archive can reach back --since %dd at most; older calls are in the table only if an earlier archive stored them",
				*since, int(rest.RecordRetention/(24*time.Hour)), int(rest.RecordRetention/(24*time.Hour)))
		}
		o.Since = d
	}
	if *pageSize < 1 || *pageSize > records.MaxPageSize {
		return fmt.Errorf("--page-size %d: want 1..%d", *pageSize, records.MaxPageSize)
	}
	o.PageSize, o.Rate = *pageSize, *rate
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	if err := cfg.Require("CALLFN_TENCENT_SDKAPPID", "CALLFN_TENCENT_SECRET_KEY"); err != nil {
		return fmt.Errorf("%w: the archive asks Tencent for its call records (`callfn serve` without them prints its sandbox's)", err)
	}
	st, err := openTable(ctx, cfg)
	if errors.Is(err, bolt.ErrLocked) {
		return fmt.Errorf("%w: stop `callfn serve` first (the embedded table has one user at a time)", err)
	}
	if err != nil {
		return err
	}
	defer st.Close()
	tc, err := rest.FromConfig(cfg, rest.Options{})
	if err != nil {
		return err
	}
	svc, err := records.NewService(cfg, st, records.Options{Client: tc})
	if err != nil {
		return err
	}
	bar := &progressBar{w: stderr, start: time.Now()}
	o.Progress = bar.archive
	rep, err := svc.Archive(ctx, o)
	bar.finish()
	if err != nil && rep.From == 0 && rep.To == 0 {
		return err // it never started on a window: there is nothing to sum up
	}
	printReport(stdout, rep, time.Since(bar.start))
	return err
}

// progressBar draws a command's progress on one line, redrawn in place: a
// bar of what is done, what the command says besides, and the time taken.
// A nil bar draws nothing.
type progressBar struct {
	w     io.Writer
	start time.Time
	drawn bool
}

const barWidth = 30

// draw draws done of total, and details.
func (b *progressBar) draw(done, total int, details string) {
	if b == nil {
		return
	}
	frac := 1.0
	if total > 0 {
		frac = min(1, float64(done)/float64(total))
	}
	n := int(frac * barWidth)
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%%  %s  %s ",
		strings.Repeat("#", n), strings.Repeat(".", barWidth-n), frac*100, details, time.Since(b.start).Round(100*time.Millisecond))
	b.drawn = true
}

// archive draws the archive's progress, by the page.
func (b *progressBar) archive(p records.Progress) {
	b.draw(p.Page, p.Pages, fmt.Sprintf("page %d/%d  %d/%d records  %d new", p.Page, p.Pages, p.Records, p.Total, p.Stored))
}

// replay draws a range replay's progress, by the call.
func (b *progressBar) replay(p records.ReplayProgress) {
	b.draw(p.CallsDone, p.Calls, fmt.Sprintf("calls %d/%d  %d events  %d deliveries queued", p.CallsDone, p.Calls, p.Events, p.Queued))
}

func (b *progressBar) finish() {
	if b != nil && b.drawn {
		fmt.Fprintln(b.w)
	}
}

func printReport(w io.Writer, r records.Report, took time.Duration) {
	ms := func(v int64) string { return time.UnixMilli(v).UTC().Format(time.RFC3339) }
	state := "complete"
	switch {
	case r.Stopped != "":
		state = "stopped (" + r.Stopped + "); the next run resumes"
	case !r.Done:
		state = "incomplete; the next run resumes"
	}
	resumed := ""
	if r.Resumed {
		resumed = " (resumed)"
	}
	fmt.Fprintf(w, "archive %s %s..%s%s: %s\n", r.API, ms(r.From), ms(r.To), resumed, state)
	fmt.Fprintf(w, "  %d pages, %d requests, %d records in %s: %d new, %d already archived, %d open calls closed, %d looked up\n",
		r.Pages, r.Requests, r.Records, took.Round(time.Millisecond), r.Stored, r.Known, r.Closed, r.Lookups)
}

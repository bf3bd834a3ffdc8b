package main

import (
	"fmt"
	"io"
	"text/tabwriter"
)

func printTable(w io.Writer, r *Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pipeline\tmessages\tseconds\tmessages/s\tpeak RSS MiB\tfloor\tfloor seconds\tratio\toutput MB\twrite floor s\twrite ratio\t  status")
	for _, x := range r.Results {
		if x.Status != "ok" {
			fmt.Fprintf(tw, "%s\t%d\t-\t-\t-\t-\t-\t-\t-\t-\t-\t  %s: %s\n", x.Pipeline, x.Messages, x.Status, x.Reason)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%.0f\t%.1f\t%s\t%.2f\t%.1f\t%.1f\t%.2f\t%.1f\t  %s\n", x.Pipeline, x.Messages, x.Seconds, x.MsgPerSec,
			x.PeakRSSMiB, x.Floor, x.FloorSeconds, x.Ratio, float64(x.OutputBytes)/1e6, x.WriteFloorSeconds, x.WriteRatio, x.Status)
	}
	tw.Flush()
	if len(r.Generator) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "generated input\tmessages\tMB\tseconds\tmessages/s\tMB/s\t")
		for _, g := range r.Generator {
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.2f\t%.0f\t%.1f\t\n", g.Format, g.Messages, float64(g.Bytes)/1e6, g.Seconds, g.MsgPerSec, g.MBPerSec)
		}
		tw.Flush()
	}
	if s := r.Scaling; s != nil {
		fmt.Fprintf(w, "\nscaling %s: peak RSS x%.2f from the last size to the largest (%s), seconds per message x%.2f (%s)\n",
			s.Pipeline, s.MemoryRatio, verdict(s.MemoryFlat, "flat", "NOT flat: more than x1.2"),
			s.TimePerMessageRatio, verdict(s.TimeLinear, "linear", "NOT linear: outside x0.8..x1.25"))
	}
}

func verdict(ok bool, yes, no string) string {
	if ok {
		return yes
	}
	return no
}

// printCompare prints, for each pipeline and size in both reports, how
// time, throughput, memory and the ratio to the floor changed.
func printCompare(w io.Writer, old, cur *Report) {
	type key struct {
		p string
		n int64
	}
	prev := map[key]Result{}
	for _, r := range old.Results {
		prev[key{r.Pipeline, r.Messages}] = r
	}
	fmt.Fprintf(w, "\ncompared with %s (commit %s):\n", old.Started.Format("2006-01-02 15:04"), orDash(old.Commit))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pipeline\tmessages\tseconds\tΔ\tmessages/s\tΔ\tpeak RSS MiB\tΔ\tratio\tΔ\t")
	n := 0
	for _, r := range cur.Results {
		o, ok := prev[key{r.Pipeline, r.Messages}]
		if !ok || o.Status != "ok" || r.Status != "ok" {
			continue
		}
		n++
		fmt.Fprintf(tw, "%s\t%d\t%.2f\t%s\t%.0f\t%s\t%.1f\t%s\t%.1f\t%s\t\n", r.Pipeline, r.Messages,
			r.Seconds, pct(o.Seconds, r.Seconds), r.MsgPerSec, pct(o.MsgPerSec, r.MsgPerSec),
			r.PeakRSSMiB, pct(o.PeakRSSMiB, r.PeakRSSMiB), r.Ratio, pct(o.Ratio, r.Ratio))
	}
	tw.Flush()
	if n == 0 {
		fmt.Fprintln(w, "no pipeline ran successfully at the same size in both runs")
	}
}

func pct(old, cur float64) string {
	if old == 0 {
		return "-"
	}
	return fmt.Sprintf("%+.1f%%", (cur-old)/old*100)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

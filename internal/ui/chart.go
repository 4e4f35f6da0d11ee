package ui

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/dadns/dadns/internal/activity"
)

// The charts are inline SVG drawn here from numbers only (no text from
// zones or errors), sized by the CSS; no script draws them.

const (
	chartW, chartH = 600.0, 120.0
	chartTop       = 14.0 // room for the scale label
)

// bars draws one bar per minute; label describes a bar for its tooltip.
func bars(values []float64, unit string, label func(i int) string) template.HTML {
	peak := 0.0
	for _, v := range values {
		peak = max(peak, v)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="per minute, last hour">`, chartW, chartH+16)
	fmt.Fprintf(&b, `<line class="axis" x1="0" y1="%.1f" x2="%.0f" y2="%.1f"/>`, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<line class="grid" x1="0" y1="%.1f" x2="%.0f" y2="%.1f"/>`, chartTop, chartW, chartTop)
	fmt.Fprintf(&b, `<text class="scale" x="2" y="%.1f">%s</text>`, chartTop-3, template.HTMLEscapeString(scale(peak, unit)))
	slot := chartW / float64(len(values))
	for i, v := range values {
		h := 0.0
		if peak > 0 {
			h = v / peak * (chartH - chartTop)
		}
		if v > 0 && h < 1.5 {
			h = 1.5
		}
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>`,
			float64(i)*slot+1, chartH-h, slot-2, h, template.HTMLEscapeString(label(i)))
	}
	fmt.Fprintf(&b, `<text class="tick" x="0" y="%.0f">−60 min</text>`, chartH+13)
	fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f" text-anchor="middle">−30 min</text>`, chartW/2, chartH+13)
	fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f" text-anchor="end">now</text>`, chartW, chartH+13)
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // built from numbers and our own words only
}

func scale(peak float64, unit string) string {
	if peak == 0 {
		return "no activity"
	}
	if unit == "ms" {
		return fmt.Sprintf("max %s", duration(time.Duration(peak*float64(time.Millisecond))))
	}
	return fmt.Sprintf("max %.0f %s", peak, unit)
}

func pushChart(hour []activity.Bucket) template.HTML {
	vals := make([]float64, len(hour))
	for i, b := range hour {
		vals[i] = float64(b.Pushes)
	}
	return bars(vals, "/min", func(i int) string {
		return fmt.Sprintf("%s: %d zone changes stored", hour[i].Start.UTC().Format("15:04"), hour[i].Pushes)
	})
}

func latencyChart(hour []activity.Bucket) template.HTML {
	vals := make([]float64, len(hour))
	for i, b := range hour {
		vals[i] = float64(b.MeanLatency()) / float64(time.Millisecond)
	}
	return bars(vals, "ms", func(i int) string {
		b := hour[i]
		if b.Batches == 0 {
			return b.Start.UTC().Format("15:04") + ": no batch"
		}
		return fmt.Sprintf("%s: %d batches, %d zones, mean %s, slowest %s", b.Start.UTC().Format("15:04"),
			b.Batches, b.Zones, duration(b.MeanLatency()), duration(b.Slowest))
	})
}

package gen

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkGenerate measures generation throughput per format (messages
// per second are reported; bytes per second via SetBytes).
func BenchmarkGenerate(b *testing.B) {
	for _, format := range []string{"gitter-rest", "gitter-matrix", "hipchat-server", "canonical"} {
		b.Run(format, func(b *testing.B) {
			const n = 50_000
			dir := b.TempDir()
			var bytes int64
			for i := 0; i < b.N; i++ {
				st, err := Generate(context.Background(), format, Config{Messages: n, Seed: 1, Passphrase: "x"}, filepath.Join(dir, format)+"/"+itoa(i)+"/")
				if err != nil {
					b.Fatal(err)
				}
				bytes = st.Bytes
			}
			b.SetBytes(bytes)
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

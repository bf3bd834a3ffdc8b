// Package jobs runs conversions as durable jobs: a job is one conversion
// (any source and target, their options, inputs uploaded or fetched from an
// http(s) URL, a passphrase) with a state, its progress, a log, a report
// and an output, all kept under a data directory.
//
// The queue is River (github.com/riverqueue/river). By default it lives in
// one SQLite file in the data directory, which needs no set-up; with a
// PostgreSQL URL several machines share one queue and each runs workers.
// River brings durable enqueueing, row locking between workers, retries
// with back-off, cancellation and the clean-up of old rows. The package
// adds what a conversion that lasts hours needs on top of it:
//
//   - a lease that the running worker renews every second or so; River
//     alone cannot tell a long conversion from a dead worker, so a job
//     whose lease lapses is handed to the queue again (or failed, once it
//     has been started MaxAttempts times), while a live one is left alone;
//   - cancellation seen through the job row as well as River's own signal,
//     so a cancel reaches the pipeline within a heartbeat on any back end;
//   - passphrases sealed with the server key (AES-256-GCM) while the job
//     waits or runs, and wiped from the row as soon as the run ends;
//   - e-mail and webhook notifications with the report's summary;
//   - purging of old jobs' files.
//
// The pipeline writes outputs atomically, so a worker killed at any moment
// leaves no output that looks complete.
package jobs

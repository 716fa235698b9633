// Package agent reads agent bundles: the folder of files an APM agent
// installs from (JENNIFER's agent.java/, agent.dotnet/, ...), wherever it
// comes from. Open takes what the user passed to --agent:
//
//   - a directory: an extracted agent.java/, or its parent holding exactly
//     one agent.* folder;
//   - a .zip, .tar.gz/.tgz or .tar file, as the JENNIFER view server serves
//     it (the format is detected from the content, not the name);
//   - an http(s) URL of that download, fetched once into the local cache
//     (with timeouts and a few retries; credentials and the query never
//     follow a redirect to another server; the cache is bounded, see
//     Options);
//   - anything else: an agent image reference, resolved through
//     Options.ResolveImage (a single image, or an index with one image per
//     platform for agents with native parts).
//
// Every source yields the same Bundle: the sorted file list that buildplan
// plans from (buildplan.Agent) and access to the file contents for the agent
// layer. Archives are untrusted input: entries that would escape the agent
// folder, special files, setuid bits, duplicates and archives that expand
// past a limit are rejected before anything is written, and the error names
// the archive and the entry.
package agent

/** A run's report: report.html (self-contained, charts as inline SVG) and history.png, from history.json and provenance.json. */
package dptrain.report;

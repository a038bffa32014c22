/**
 * A whole run, as {@code dptrain train} and {@code dptrain cv} do it and a Java user can: train or
 * cross-validate, then write {@code model.zip}, {@code history.json}, {@code provenance.json}
 * (or {@code cv.json}), {@code report.html} and {@code history.png} to the configured output.
 */
package dptrain.driver.run;

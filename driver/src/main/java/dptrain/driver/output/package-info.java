/**
 * The files a run leaves: {@code model.zip}, {@code history.json}, {@code provenance.json},
 * {@code cv.json} and {@code evaluation.json}, each written atomically, with the versions behind them.
 */
package dptrain.driver.output;

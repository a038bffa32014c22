package dptrain.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.geom.Rectangle2D;
import java.util.List;
import java.util.function.ToDoubleFunction;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.StandardChartTheme;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.text.TextUtils;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.svg.SVGGraphics2D;

/** The report's charts, drawn with JFreeChart: training curves, time per round, throughput, a ROC curve. */
final class ReportCharts {
    /** More rounds than this are shown summed per epoch, so the timing chart's bars stay readable. */
    static final int MAX_ROUND_BARS = 60;

    private static final Color TRAINING = new Color(0x1f77b4);
    private static final Color VALIDATION = new Color(0xff7f0e);

    private ReportCharts() {
    }

    static {
        // Charts are drawn off-screen, on servers and in CI alike.
        System.setProperty("java.awt.headless", "true");
        ChartFactory.setChartTheme(StandardChartTheme.createJFreeTheme());
        // Rotated labels (the value axes') as rotated text, not glyph outlines: the SVG keeps them as <text>.
        TextUtils.setUseDrawRotatedStringWorkaround(false);
    }

    /** Training against validation per epoch, e.g. loss: the overfitting picture. */
    static JFreeChart curves(String title, String axis, List<RunRecord.Epoch> epochs,
            ToDoubleFunction<RunRecord.Epoch> training, ToDoubleFunction<RunRecord.Epoch> validation) {
        JFreeChart chart = ChartFactory.createXYLineChart(title, "Epoch", axis, curveData(axis, epochs, training,
                validation), PlotOrientation.VERTICAL, true, false, false);
        styleCurves(chart.getXYPlot());
        return chart;
    }

    /** Loss and the run's main metric (accuracy, or mae ...) above each other on a shared epoch axis: history.png. */
    static JFreeChart history(List<RunRecord.Epoch> epochs, String metric) {
        NumberAxis epochAxis = new NumberAxis("Epoch");
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(epochAxis);
        plot.setGap(12);
        plot.add(new XYPlot(curveData("Loss", epochs, RunRecord.Epoch::loss, RunRecord.Epoch::valLoss), null,
                new NumberAxis("Loss"), new XYLineAndShapeRenderer(true, true)));
        String axis = axisName(metric);
        plot.add(new XYPlot(curveData(axis, epochs, e -> e.metric(metric), e -> e.valMetric(metric)),
                null, new NumberAxis(axis), new XYLineAndShapeRenderer(true, true)));
        JFreeChart chart = new JFreeChart("Training history", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        // The theme first: it would reset the colours and strokes set below.
        ChartFactory.getChartTheme().apply(chart);
        for (Object sub : plot.getSubplots()) {
            styleCurves((XYPlot) sub);
        }
        styleCurves(plot);
        return chart;
    }

    /** How a chart names a metric: "Accuracy", or a regression's "MAE", "MSE", "RMSE". */
    static String axisName(String metric) {
        return metric.equals("accuracy") ? "Accuracy" : metric.toUpperCase(java.util.Locale.ROOT);
    }

    /**
     * A regression's test predictions against the actual values, one point per sampled target value, with the
     * diagonal where a perfect model's points would lie.
     */
    static JFreeChart predictedAgainstActual(double[] actual, double[] predicted) {
        XYSeries points = new XYSeries("test examples", false, true);
        double low = Double.POSITIVE_INFINITY;
        double high = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < actual.length; i++) {
            points.add(actual[i], predicted[i]);
            low = Math.min(low, Math.min(actual[i], predicted[i]));
            high = Math.max(high, Math.max(actual[i], predicted[i]));
        }
        XYSeries diagonal = new XYSeries("predicted = actual", false, true);
        if (actual.length > 0) {
            diagonal.add(low, low);
            diagonal.add(high, high);
        }
        XYSeriesCollection data = new XYSeriesCollection(points);
        data.addSeries(diagonal);
        JFreeChart chart = ChartFactory.createScatterPlot("Predicted against actual (test)", "Actual", "Predicted",
                data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        renderer.setSeriesLinesVisible(0, false);
        renderer.setSeriesShapesVisible(0, true);
        renderer.setSeriesShape(0, new java.awt.geom.Ellipse2D.Double(-2, -2, 4, 4));
        renderer.setSeriesPaint(0, new Color(TRAINING.getRed(), TRAINING.getGreen(), TRAINING.getBlue(), 140));
        renderer.setSeriesLinesVisible(1, true);
        renderer.setSeriesShapesVisible(1, false);
        renderer.setSeriesPaint(1, Color.GRAY);
        plot.setRenderer(renderer);
        return chart;
    }

    private static XYSeriesCollection curveData(String metric, List<RunRecord.Epoch> epochs,
            ToDoubleFunction<RunRecord.Epoch> training, ToDoubleFunction<RunRecord.Epoch> validation) {
        String name = metric.toLowerCase(java.util.Locale.ROOT);
        XYSeries train = new XYSeries("training " + name);
        XYSeries val = new XYSeries("validation " + name);
        for (RunRecord.Epoch e : epochs) {
            addFinite(train, e.epoch(), training.applyAsDouble(e));
            addFinite(val, e.epoch(), validation.applyAsDouble(e));
        }
        XYSeriesCollection data = new XYSeriesCollection(train);
        if (val.getItemCount() > 0) {
            data.addSeries(val);
        }
        return data;
    }

    private static void addFinite(XYSeries series, int x, double y) {
        if (Double.isFinite(y)) {
            series.add(x, y);
        }
    }

    private static void styleCurves(XYPlot plot) {
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        if (plot.getDomainAxis() instanceof NumberAxis epochAxis) {
            epochAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
            epochAxis.setAutoRangeMinimumSize(1);
            epochAxis.setAutoRangeIncludesZero(false);
        }
        if (plot.getRangeAxis() instanceof NumberAxis valueAxis) {
            valueAxis.setAutoRangeIncludesZero(false);
            // One epoch, or a flat curve, would otherwise span a range too small for readable ticks.
            valueAxis.setAutoRangeMinimumSize(0.01);
        }
        if (plot.getRenderer() instanceof XYLineAndShapeRenderer renderer) {
            renderer.setDefaultShapesVisible(true);
            renderer.setSeriesPaint(0, TRAINING);
            renderer.setSeriesPaint(1, VALIDATION);
            renderer.setSeriesStroke(0, new BasicStroke(2f));
            renderer.setSeriesStroke(1, new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f,
                    new float[] {6f, 4f}, 0f));
        }
    }

    /**
     * Where each round's time went (broadcast, compute, combine, scheduling, update), stacked; summed
     * per epoch when there are more than {@link #MAX_ROUND_BARS} rounds.
     */
    static JFreeChart timing(List<RunRecord.Round> rounds) {
        boolean perEpoch = rounds.size() > MAX_ROUND_BARS;
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        List<String> parts = List.of("broadcast", "compute", "combine", "scheduling", "update");
        for (RunRecord.Round r : rounds) {
            String column = perEpoch ? Integer.toString(r.epoch()) : r.epoch() + "." + r.round();
            double[] seconds = {r.broadcastSeconds(), r.computeSeconds(), r.combineSeconds(), r.schedulingSeconds(),
                r.updateSeconds()};
            for (int p = 0; p < parts.size(); p++) {
                Number before = data.getColumnKeys().contains(column) && data.getRowKeys().contains(parts.get(p))
                        ? data.getValue(parts.get(p), column) : null;
                data.setValue((before == null ? 0 : before.doubleValue()) + finiteOrZero(seconds[p]), parts.get(p),
                        column);
            }
        }
        JFreeChart chart = ChartFactory.createStackedBarChart(
                perEpoch ? "Time per epoch (rounds summed)" : "Time per round", perEpoch ? "Epoch" : "Round (epoch.round)",
                "Seconds", data, PlotOrientation.VERTICAL, true, false, false);
        var plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        StackedBarRenderer renderer = (StackedBarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        Color[] colors = {new Color(0x9467bd), TRAINING, new Color(0x2ca02c), new Color(0xd62728), VALIDATION};
        for (int p = 0; p < colors.length; p++) {
            renderer.setSeriesPaint(p, colors[p]);
        }
        CategoryAxis axis = plot.getDomainAxis();
        if (data.getColumnCount() > 12) {
            axis.setCategoryLabelPositions(CategoryLabelPositions.UP_90);
            axis.setTickLabelFont(axis.getTickLabelFont().deriveFont(Font.PLAIN, 9f));
        }
        return chart;
    }

    /** Training examples per second of each round's wall time, over the run's rounds in order. */
    static JFreeChart throughput(List<RunRecord.Round> rounds) {
        XYSeries series = new XYSeries("examples/s");
        for (int i = 0; i < rounds.size(); i++) {
            series.add(i + 1, rounds.get(i).examplesPerSecond());
        }
        JFreeChart chart = ChartFactory.createXYLineChart("Training throughput", "Round", "Examples/s",
                new XYSeriesCollection(series), PlotOrientation.VERTICAL, false, false, false);
        styleCurves(chart.getXYPlot());
        ((NumberAxis) chart.getXYPlot().getRangeAxis()).setAutoRangeIncludesZero(true);
        return chart;
    }

    /**
     * A binary classifier's ROC curve on the test data (true against false positive rate, both axes
     * [0, 1]) with the diagonal of a classifier that guesses.
     */
    static JFreeChart roc(double[] falsePositiveRates, double[] truePositiveRates, double auc) {
        XYSeries curve = new XYSeries(Double.isFinite(auc)
                ? String.format(java.util.Locale.ROOT, "ROC curve (AUC %.4f)", auc) : "ROC curve", false, true);
        for (int i = 0; i < falsePositiveRates.length; i++) {
            curve.add(falsePositiveRates[i], truePositiveRates[i]);
        }
        XYSeries chance = new XYSeries("chance", false, true);
        chance.add(0, 0);
        chance.add(1, 1);
        XYSeriesCollection data = new XYSeriesCollection(curve);
        data.addSeries(chance);
        JFreeChart chart = ChartFactory.createXYLineChart("ROC curve (test data)", "False positive rate",
                "True positive rate", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        for (NumberAxis axis : new NumberAxis[] {(NumberAxis) plot.getDomainAxis(), (NumberAxis) plot.getRangeAxis()}) {
            axis.setRange(0, 1);
        }
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        renderer.setSeriesPaint(0, TRAINING);
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        renderer.setSeriesPaint(1, Color.GRAY);
        renderer.setSeriesStroke(1, new BasicStroke(1f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND, 1f,
                new float[] {6f, 4f}, 0f));
        plot.setRenderer(renderer);
        return chart;
    }

    private static double finiteOrZero(double v) {
        return Double.isFinite(v) ? v : 0;
    }

    /** The chart as an inline {@code <svg>} element; {@code id} keeps its clip-path ids apart from other charts'. */
    static String svg(JFreeChart chart, String id, int width, int height) {
        SVGGraphics2D g = new SVGGraphics2D(width, height);
        g.setDefsKeyPrefix(id + "-");
        chart.draw(g, new Rectangle2D.Double(0, 0, width, height));
        return g.getSVGElement(id);
    }
}

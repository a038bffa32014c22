package dptrain.driver.input;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a pass over a dataset found: how many records became examples, how many could not, how
 * many of those for each reason, and the first few bad records in file order. Built where the
 * data is (add, merge) and small whatever the data's size.
 */
public final class ValidationReport implements Serializable {
    private static final long serialVersionUID = 1L;
    /** How many bad records a report keeps to show. */
    static final int SHOWN = 5;

    private long examples;
    private long badRecords;
    private final Map<String, Long> countsByReason = new TreeMap<>();
    private final Map<String, Long> countsByFile = new TreeMap<>();
    private boolean breaksAFile;
    private final List<BadRecord> firstBad = new ArrayList<>();

    public ValidationReport addExample() {
        examples++;
        return this;
    }

    /** Counts {@code count} examples at once: rows known good without a pass of their own. */
    ValidationReport addExamples(long count) {
        examples += count;
        return this;
    }

    public ValidationReport addBad(BadRecord bad) {
        badRecords++;
        countsByReason.merge(bad.reason(), 1L, Long::sum);
        countsByFile.merge(bad.source(), 1L, Long::sum);
        breaksAFile |= bad.breaksFile();
        firstBad.add(bad);
        keepFirst();
        return this;
    }

    public ValidationReport merge(ValidationReport other) {
        examples += other.examples;
        badRecords += other.badRecords;
        other.countsByReason.forEach((reason, n) -> countsByReason.merge(reason, n, Long::sum));
        other.countsByFile.forEach((file, n) -> countsByFile.merge(file, n, Long::sum));
        breaksAFile |= other.breaksAFile;
        firstBad.addAll(other.firstBad);
        keepFirst();
        return this;
    }

    /**
     * This report with its bad records' positions {@code lines} further on: a split's report, whose lines were
     * counted from the split's start, made to count from the file's start.
     */
    ValidationReport shifted(long lines) {
        if (lines == 0 || firstBad.isEmpty()) {
            return this;
        }
        ValidationReport copy = new ValidationReport().merge(this);
        copy.firstBad.replaceAll(bad -> bad.shifted(lines));
        return copy;
    }

    private void keepFirst() {
        firstBad.sort(BadRecord.IN_FILE_ORDER);
        while (firstBad.size() > SHOWN) {
            firstBad.remove(firstBad.size() - 1);
        }
    }

    public long examples() {
        return examples;
    }

    public long badRecords() {
        return badRecords;
    }

    public Map<String, Long> countsByReason() {
        return Map.copyOf(countsByReason);
    }

    public Map<String, Long> countsByFile() {
        return Map.copyOf(countsByFile);
    }

    /** True when some file could not be read past a bad record. */
    public boolean breaksAFile() {
        return breaksAFile;
    }

    public List<BadRecord> firstBadRecords() {
        return List.copyOf(firstBad);
    }

    /** The user-facing account of the bad records of the data named {@code what} (e.g. "--train"). */
    public String describe(String what) {
        if (badRecords == 1) {
            return what + ": " + firstBad.get(0).message();
        }
        return listed(what + ": " + badRecords + " records are bad");
    }

    /** The account of bad records left out under --on-bad-record skip. */
    public String describeSkipped(String what) {
        return listed("Skipped " + badRecords + (badRecords == 1 ? " bad record" : " bad records") + " of " + what);
    }

    private String listed(String headline) {
        StringBuilder text = new StringBuilder(headline);
        text.append(firstBad.size() < badRecords ? "; the first " + firstBad.size() + ":" : ":");
        for (BadRecord bad : firstBad) {
            text.append("\n  ").append(bad.message());
        }
        text.append("\nbad records by reason:");
        countsByReason.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> text.append("\n  ").append(e.getValue()).append(" × ").append(e.getKey()));
        return text.toString();
    }
}

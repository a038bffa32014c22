package dptrain.driver.input;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a {@link DataInput} says about its labels, and how provenance describes it. */
class DataInputTest {

    @Test
    void inputsHaveLabelsUnlessToldOtherwise() {
        assertTrue(DataInput.of("a.csv", DataFormat.CSV).hasLabels());
        assertTrue(DataInput.dataFrame("features", "label").hasLabels());
        DataInput unlabeled = DataInput.of("a.csv", DataFormat.CSV).withLabels(DataInput.Labels.ABSENT);
        assertFalse(unlabeled.hasLabels());
        assertFalse(unlabeled.withFeatureMultiplier(0.5f).withBadRecords(DataInput.BadRecords.SKIP).hasLabels(),
                "the other withers keep the labels' presence");
    }

    @Test
    void aLabelledInputIsDescribedAsBeforeSoCheckpointsStillResume() {
        assertEquals(List.of("uri", "format", "scale", "label_column", "header", "delimiter"),
                List.copyOf(DataInput.of("a.csv", DataFormat.CSV).describe().keySet()));
        assertEquals(List.of("uri", "format", "scale", "features_col", "label_col"),
                List.copyOf(DataInput.of("a.parquet", DataFormat.PARQUET).describe().keySet()));
    }

    @Test
    void anUnlabelledInputSaysSoAndNamesNoLabelColumn() {
        var csv = DataInput.of("a.csv", DataFormat.CSV).withLabels(DataInput.Labels.ABSENT).describe();
        assertEquals("absent", csv.get("labels"));
        assertFalse(csv.containsKey("label_column"));
        var parquet = DataInput.of("a.parquet", DataFormat.PARQUET).withLabels(DataInput.Labels.ABSENT).describe();
        assertEquals(List.of("uri", "format", "scale", "labels", "features_col"), List.copyOf(parquet.keySet()));
    }

    @Test
    void theLabelsPresenceIsRequired() {
        assertThrows(IllegalArgumentException.class, () -> DataInput.of("a.csv", DataFormat.CSV).withLabels(null));
    }
}

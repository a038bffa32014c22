package dptrain.data;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class DataFormatExceptionTest {

    @Test
    void theMessageLeavesOutUnknownParts() {
        assertEquals("a.csv line 17, column 3: bad", new DataFormatException("a.csv", 17, 3, "bad").getMessage());
        assertEquals("a.csv line 17: bad", new DataFormatException("a.csv", 17, -1, "bad").getMessage());
        assertEquals("a.csv column 3: bad", new DataFormatException("a.csv", -1, 3, "bad").getMessage());
        assertEquals("a.csv: bad", new DataFormatException("a.csv", -1, -1, "bad").getMessage());
        assertEquals("input: bad", new DataFormatException(null, -1, -1, "bad").getMessage());
    }

    @Test
    void recordBasedInputsCountRecords() {
        DataFormatException e = DataFormatException.inRecord("images.idx", 123, "bad");

        assertEquals("images.idx record 123: bad", e.getMessage());
        assertEquals(123, e.lineOrRecord());
        assertEquals(-1, e.column());
    }
}

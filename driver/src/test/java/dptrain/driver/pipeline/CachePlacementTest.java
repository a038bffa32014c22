package dptrain.driver.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dptrain.driver.pipeline.CachePlacement.Holder;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CachePlacementTest {

    private static List<Holder> on(int partition, String... executors) {
        return java.util.Arrays.stream(executors).map(e -> new Holder(partition, e, "127.0.0.1")).toList();
    }

    @Test
    void twoBlocksOnAOneSlotExecutorBesideAnIdleOneDropTheSecond() {
        // After executor 0 was lost, partition 1 was rebuilt on executor 1, which already held partition 0.
        List<Holder> crowded = CachePlacement.crowded(List.of(on(0, "1"), on(1, "1")), Map.of("1", 1, "2", 1));
        assertEquals(List.of(new Holder(1, "1", "127.0.0.1")), crowded);
    }

    @Test
    void blocksOnExecutorsWithASlotEachStayWhereTheyAre() {
        assertEquals(List.of(), CachePlacement.crowded(List.of(on(0, "1"), on(1, "2")), Map.of("1", 1, "2", 1)));
    }

    @Test
    void anExecutorWithASlotPerBlockKeepsThemAll() {
        assertEquals(List.of(), CachePlacement.crowded(List.of(on(0, "1"), on(1, "1")), Map.of("1", 2, "2", 1)));
    }

    @Test
    void nothingIsDroppedWhileTheClusterHasFewerSlotsThanPartitions() {
        // The replacement executor has not registered: the tasks wait for slots anyway.
        assertEquals(List.of(), CachePlacement.crowded(List.of(on(0, "1"), on(1, "1")), Map.of("1", 1)));
    }

    @Test
    void aPartitionNotCachedAnywhereIsNotDroppedAndOneWithACopyOnAFreeExecutorStays() {
        List<List<Holder>> holders = List.of(on(0, "1"), on(1), on(2, "1", "3"));
        assertEquals(List.of(), CachePlacement.crowded(holders, Map.of("1", 1, "2", 1, "3", 1)));
    }

    @Test
    void everyBlockBeyondAnExecutorsSlotsIsDropped() {
        List<List<Holder>> holders = List.of(on(0, "a"), on(1, "a"), on(2, "a"), on(3, "b"));
        assertEquals(List.of(new Holder(2, "a", "127.0.0.1")),
                CachePlacement.crowded(holders, Map.of("a", 2, "b", 2)));
    }
}

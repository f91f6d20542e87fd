package io.mezzo.agent.resources;

import static org.assertj.core.api.Assertions.assertThat;

import io.mezzo.common.resources.RangeSet;
import io.mezzo.common.resources.Resources;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResourceDetectorTest {

    @TempDir
    Path workDir;

    @Test
    void reservesMemoryAsMesosDoes() {
        assertThat(ResourceDetector.memoryMb(16 * 1024)).isEqualTo(15 * 1024);
        assertThat(ResourceDetector.memoryMb(2048)).isEqualTo(1024);
        assertThat(ResourceDetector.memoryMb(2047)).isEqualTo(1023);
        assertThat(ResourceDetector.memoryMb(1000)).isEqualTo(500);
    }

    @Test
    void reservesDiskAsMesosDoes() {
        assertThat(ResourceDetector.diskMb(100 * 1024)).isEqualTo(95 * 1024);
        assertThat(ResourceDetector.diskMb(10 * 1024)).isEqualTo(5 * 1024);
        assertThat(ResourceDetector.diskMb(10 * 1024 - 2)).isEqualTo(5 * 1024 - 1);
        assertThat(ResourceDetector.diskMb(4000)).isEqualTo(2000);
    }

    @Test
    void detectsEveryStandardResource() {
        Resources r = ResourceDetector.detect(new ResourceDetector.HostFacts(8, 32 * 1024, 200 * 1024));
        assertThat(r.toString()).isEqualTo("cpus:8;disk:199680;mem:31744;ports:[31000-32000]");
    }

    @Test
    void detectsOnlyTheStandardResourcesNotGiven() {
        Resources given = ResourceFlags.parseResources("cpus(eng):2;mem:512;gpus:1");
        Resources total = ResourceDetector.total(given, new ResourceDetector.HostFacts(8, 32 * 1024, 4000));
        // cpus was given (reserved for eng): not detected. mem given. disk and ports detected.
        assertThat(total.toString()).isEqualTo("cpus(eng):2;disk:2000;gpus:1;mem:512;ports:[31000-32000]");
        assertThat(total.ranges("ports")).isEqualTo(RangeSet.of(31000, 32000));
    }

    @Test
    void probesThisHost() {
        ResourceDetector.HostFacts facts = ResourceDetector.HostFacts.probe(workDir.resolve("not/yet/created"));
        assertThat(facts.cpus()).isEqualTo(Runtime.getRuntime().availableProcessors());
        assertThat(facts.memoryMb()).isPositive();
        assertThat(facts.diskMb()).isPositive();
    }
}

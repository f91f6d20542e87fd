package io.mezzo.scheduler;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every public type of the library has a Javadoc comment (the Javadoc build's doclint checks the
 * rest: references, HTML, syntax). Reads the sources, as javadoc does.
 */
class PublicApiDocumentedTest {

    private static final Pattern PUBLIC_TYPE =
            Pattern.compile("^\\s*public\\s+(static\\s+)?(final\\s+)?(abstract\\s+)?(class|interface|record|enum)\\s+(\\w+)");

    @Test
    void everyPublicTypeHasAComment() throws IOException {
        List<String> undocumented = undocumented(Path.of("src/main/java/io/mezzo/scheduler"));
        assertThat(undocumented).isEmpty();
    }

    @Test
    void theCheckFindsAnUndocumentedType() throws IOException {
        Path dir = Files.createTempDirectory("api-doc");
        Files.writeString(dir.resolve("Bare.java"), "package x;\n\n@Deprecated\npublic final class Bare {}\n");
        Files.writeString(dir.resolve("Fine.java"), "package x;\n\n/** Fine. */\npublic final class Fine {}\n");
        assertThat(undocumented(dir)).singleElement().asString().contains("Bare");
    }

    private static List<String> undocumented(Path root) throws IOException {
        List<String> missing = new ArrayList<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                List<String> lines = Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++) {
                    var m = PUBLIC_TYPE.matcher(lines.get(i));
                    if (!m.find()) {
                        continue;
                    }
                    int j = i - 1;
                    while (j >= 0 && (lines.get(j).isBlank() || lines.get(j).trim().startsWith("@"))) {
                        j--;
                    }
                    if (j < 0 || !lines.get(j).trim().endsWith("*/")) {
                        missing.add(file.getFileName() + ": " + m.group(5));
                    }
                }
            }
        }
        return missing;
    }
}

package dev.tickwatch.qmp.codec;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * A command to the server: {@code {"execute": NAME, "arguments": {...}, "id": ID}}.
 *
 * @param execute   the command name
 * @param arguments the arguments object, or null for none
 * @param id        the id the client matches the reply on, or null
 */
public record QmpCommand(String execute, JsonNode arguments, JsonNode id) {
    public QmpCommand {
        Objects.requireNonNull(execute, "execute");
    }
}

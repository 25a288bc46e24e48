package dev.tickwatch.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EndpointTest {

    @Test
    void parsesQemuSyntax() {
        assertEquals(new Endpoint.Unix(Path.of("/tmp/q.sock")), Endpoint.parse("unix:/tmp/q.sock"));
        assertEquals(new Endpoint.Unix(Path.of("/tmp/q.sock")), Endpoint.parse("unix:/tmp/q.sock,server=on,wait=off"));
        assertEquals(new Endpoint.Unix(Path.of("/tmp/q.sock")), Endpoint.parse("/tmp/q.sock"));
        assertEquals(new Endpoint.Tcp("127.0.0.1", 4444), Endpoint.parse("tcp:127.0.0.1:4444"));
        assertEquals(new Endpoint.Tcp("127.0.0.1", 1234), Endpoint.parse("tcp::1234"));
        assertEquals(new Endpoint.Tcp("::1", 4444), Endpoint.parse("tcp:[::1]:4444"));
        assertEquals("tcp:[::1]:4444", Endpoint.parse("tcp:[::1]:4444").toString());
        assertEquals("unix:/tmp/q.sock", Endpoint.parse("unix:/tmp/q.sock").toString());
    }

    @Test
    void rejectsNonsenseWithTheExpectedForm() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("qmp"));
        assertEquals("cannot parse address 'qmp' (expected: unix:/path or tcp:host:port)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("tcp:host:99999"));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("tcp:host"));
        assertThrows(IllegalArgumentException.class, () -> Endpoint.parse("unix:"));
    }
}

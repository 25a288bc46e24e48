package dev.tickwatch.qmp.codec;

/**
 * One message from a QMP server, as the QEMU Machine Protocol Specification
 * (qemu/docs/interop/qmp-spec.rst, section 2) defines them: the greeting, a successful
 * response, an error response, an asynchronous event; plus {@link QmpInvalid}, a frame that
 * could not be decoded, which the decoder passes on as data instead of killing the connection.
 */
public sealed interface QmpMessage permits QmpGreeting, QmpReturn, QmpError, QmpEvent, QmpInvalid {
}

package jlstm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link Device}: the three constants, {@code cuda(n)}, and what {@code --device} accepts. */
class DeviceTest {

    @Test
    void parsesTheConstantsAndGpuOrdinals() {
        assertSame(Device.AUTO, Device.parse("auto"));
        assertSame(Device.CPU, Device.parse(" CPU "));
        assertSame(Device.CUDA, Device.parse("cuda"));
        assertSame(Device.CUDA, Device.parse("cuda:0"));
        Device third = Device.parse("Cuda:3");
        assertEquals(Device.Kind.CUDA, third.kind());
        assertEquals(3, third.ordinal());
        assertEquals("cuda:3", third.label());
        assertEquals(Device.cuda(3), third);
        assertEquals(Device.cuda(3).hashCode(), third.hashCode());
        assertNotEquals(Device.cuda(2), third);
        assertEquals("cuda", Device.CUDA.label());
        assertEquals("CUDA", Device.CUDA.toString());
        assertEquals(Device.Kind.CPU, Device.CPU.kind());
    }

    @Test
    void refusesWhatIsNotADevice() {
        for (String bad : new String[] {"gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1.5", "cpu:0", ""}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse(bad), bad);
            assertTrue(e.getMessage().contains("cuda:N"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Device.cuda(-1));
    }

    /** A Spark task's options carry a device through Java serialization: the constants come back as themselves. */
    @Test
    void serializationKeepsTheConstants() throws Exception {
        for (Device d : new Device[] {Device.AUTO, Device.CPU, Device.CUDA, Device.cuda(3)}) {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
                out.writeObject(d);
            }
            try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                    new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
                Device back = (Device) in.readObject();
                assertEquals(d, back);
                if (d.ordinal() == 0) {
                    assertSame(d, back);
                }
            }
        }
    }
}

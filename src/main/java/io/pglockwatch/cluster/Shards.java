package io.pglockwatch.cluster;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Which shard a target falls into: the CRC-32 (the checksum of zip, gzip and PNG, as {@link CRC32} computes it) of
 * the target's name in UTF-8, as an unsigned 32-bit number, modulo {@code pglockwatch.cluster.shards}. The name is
 * taken exactly as configured: no trimming, no change of case.
 *
 * <p>It never changes between versions or JVMs, and anyone can compute it without the service, e.g.
 * {@code python3 -c 'import sys, zlib; print(zlib.crc32(sys.argv[1].encode()) % int(sys.argv[2]))' orders-db 4}
 * prints {@code 0}. ({@code cksum} computes a different CRC and does not give the same number.)
 */
public final class Shards {

	private Shards() {
	}

	/**
	 * The shard of {@code target} among {@code shards}: from 0 to {@code shards - 1}.
	 * @throws IllegalArgumentException when {@code shards} is below 1
	 */
	public static int of(String target, int shards) {
		if (target == null) {
			throw new IllegalArgumentException("target must not be null");
		}
		if (shards < 1) {
			throw new IllegalArgumentException("shards must be at least 1, not " + shards);
		}
		CRC32 crc = new CRC32();
		crc.update(target.getBytes(StandardCharsets.UTF_8));
		return (int) (crc.getValue() % shards);
	}

}

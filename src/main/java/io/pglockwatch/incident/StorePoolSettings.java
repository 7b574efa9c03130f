package io.pglockwatch.incident;

import java.util.Locale;
import java.util.regex.Pattern;

import com.zaxxer.hikari.HikariDataSource;

import org.springframework.beans.factory.config.BeanPostProcessor;

/**
 * Readies Spring Boot's pool for an embedded H2 file store, before the pool starts: allows pool suspension, which
 * {@link StoreCompaction} uses to hold callers for the moment the file is rewritten, and gives H2 a page cache sized
 * from the heap: 1/64 of the maximum heap in whole MiB, at least {@value #MIN_MB} MiB and at most {@value #MAX_MB} MiB,
 * as {@code CACHE_SIZE} (in KiB) in the JDBC URL. A URL that sets {@code CACHE_SIZE} itself keeps its value.
 *
 * <p>Why the cache: H2's own default is 16 MiB (plus a quarter of that for chunk tables of contents) whatever the
 * heap. It fills slowly, with pages of new chunks, so the heap after a full GC grows for hours before it levels off.
 * The store's working set is small (the active incidents and the newest page of the history, about 5 KiB of live
 * data per incident), so 16 MiB buys nothing on a large heap and is a sizeable share of a small one; a bound from the
 * heap keeps it a known, small part of it: 9 MiB with the chart's default 768 MiB memory limit (576 MiB heap).
 *
 * <p>Only a {@link HikariDataSource} on an H2 file URL is changed; any other data source or store is left as
 * configured (and then not compacted).
 */
final class StorePoolSettings implements BeanPostProcessor {

	static final int MIN_MB = 4;

	static final int MAX_MB = 16;

	private static final Pattern CACHE_SIZE_SETTING = Pattern.compile(";\\s*CACHE_SIZE\\s*=", Pattern.CASE_INSENSITIVE);

	private final long maxHeapBytes;

	StorePoolSettings(long maxHeapBytes) {
		this.maxHeapBytes = maxHeapBytes;
	}

	/** The page cache for a heap of at most {@code maxHeapBytes}, in KiB (H2's unit for {@code CACHE_SIZE}). */
	static int cacheSizeKb(long maxHeapBytes) {
		long mb = maxHeapBytes / 64 / (1024 * 1024);
		// H2 keeps the cache in whole MiB: a multiple of 1024 KiB is what it reports back
		return (int) Math.max(MIN_MB, Math.min(MAX_MB, mb)) * 1024;
	}

	/** {@code url} with the cache size for the heap, if it is an H2 file URL that does not set one. */
	static String withCacheSize(String url, long maxHeapBytes) {
		if (url == null || !StoreLocation.H2_FILE.equals(StoreLocation.of(url).type())
				|| CACHE_SIZE_SETTING.matcher(url).find()) {
			return url;
		}
		return url + String.format(Locale.ROOT, ";CACHE_SIZE=%d", cacheSizeKb(maxHeapBytes));
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		// the pool starts on the first connection, later than this: its URL can still change
		if (bean instanceof HikariDataSource pool && pool.getJdbcUrl() != null
				&& StoreLocation.H2_FILE.equals(StoreLocation.of(pool.getJdbcUrl()).type())) {
			pool.setJdbcUrl(withCacheSize(pool.getJdbcUrl(), this.maxHeapBytes));
			pool.setAllowPoolSuspension(true);
		}
		return bean;
	}

}

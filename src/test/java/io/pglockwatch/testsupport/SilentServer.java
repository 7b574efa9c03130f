package io.pglockwatch.testsupport;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP server on loopback that accepts connections and never answers: a database host whose process hangs.
 * The kernel completes the handshake, so a client only notices through its own timeouts.
 */
public final class SilentServer implements AutoCloseable {

	private final ServerSocket socket;

	private final List<Socket> accepted = new CopyOnWriteArrayList<>();

	private final Thread acceptor;

	public SilentServer() throws IOException {
		this.socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
		this.acceptor = new Thread(() -> {
			while (!this.socket.isClosed()) {
				try {
					this.accepted.add(this.socket.accept());
				}
				catch (IOException ex) {
					return;
				}
			}
		}, "silent-server");
		this.acceptor.setDaemon(true);
		this.acceptor.start();
	}

	public int port() {
		return this.socket.getLocalPort();
	}

	public String jdbcUrl() {
		return "jdbc:postgresql://127.0.0.1:" + port() + "/app";
	}

	/** Connections accepted so far. */
	public int acceptedCount() {
		return this.accepted.size();
	}

	@Override
	public void close() throws IOException {
		this.socket.close();
		for (Socket s : this.accepted) {
			s.close();
		}
	}

}

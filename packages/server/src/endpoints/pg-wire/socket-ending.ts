/**
 * Ending a connection the gateway no longer wants, without trusting the client to cooperate: the last
 * message is sent with a FIN, what the client still sends is read and dropped (closing a socket with
 * unread input resets it, and the reset can destroy the message before the client reads it), and after a
 * grace period the socket is destroyed even if the client never reads or never closes its side.
 *
 * @example
 *   endSocket(socket, msg.errorResponse({ severity: 'FATAL', code: '53300', message: 'too many connections' }));
 */
import type { Socket } from 'node:net';

/** long enough for the message to reach a client on a slow link, short enough that refused sockets do not pile up */
export const END_GRACE_MS = 1000;

export function endSocket(socket: Socket, last?: Buffer, graceMs = END_GRACE_MS): void {
  socket.removeAllListeners('data');
  socket.on('error', () => socket.destroy());
  socket.resume();
  if (last) socket.end(last);
  else socket.end();
  const timer = setTimeout(() => socket.destroy(), graceMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

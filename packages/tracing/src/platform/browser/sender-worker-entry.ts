/** The sender worker as a module of its own: what the bundlers' build of the SDK embeds as a string. */
import { runSenderWorker } from './sender-worker.js';

runSenderWorker();

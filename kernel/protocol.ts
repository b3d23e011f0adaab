/**
 * The Jupyter wire protocol (messaging spec 5.3,
 * https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol):
 * a message is `[identities..., "<IDS|MSG>", hmac, header, parent_header,
 * metadata, content, buffers...]`, signed with HMAC-SHA256 over the four JSON
 * parts using the connection file's key.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = Buffer.from("<IDS|MSG>");

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message<C = Record<string, unknown>> {
  /** ZeroMQ routing identities (ROUTER sockets) or the topic (IOPub). */
  identities: Buffer[];
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: Record<string, unknown>;
  content: C;
  buffers: Buffer[];
}

/** The connection file written by the frontend (jupyter_client). */
export interface ConnectionInfo {
  transport: "tcp" | "ipc";
  ip: string;
  key: string;
  signature_scheme: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
}

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

function sign(key: string, parts: readonly (Buffer | string)[]): string {
  if (!key) return "";
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return h.digest("hex");
}

/** Parses and verifies raw frames. Throws ProtocolError on a malformed or badly signed message. */
export function decode(frames: readonly Buffer[], key: string): Message {
  const at = frames.findIndex((f) => f.equals(DELIMITER));
  if (at < 0) throw new ProtocolError("message has no <IDS|MSG> delimiter");
  if (frames.length < at + 6) throw new ProtocolError(`message has ${frames.length - at - 1} frames after the delimiter, expected at least 5`);
  const signature = frames[at + 1].toString();
  const parts = frames.slice(at + 2, at + 6);
  if (key) {
    const expected = Buffer.from(sign(key, parts));
    const got = Buffer.from(signature);
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new ProtocolError("message signature does not match the connection key");
  }
  const json = (b: Buffer, what: string) => {
    try {
      return JSON.parse(b.toString("utf8"));
    } catch (e) {
      throw new ProtocolError(`message ${what} is not JSON: ${(e as Error).message}`);
    }
  };
  return {
    identities: frames.slice(0, at),
    header: json(parts[0], "header"),
    parent_header: json(parts[1], "parent_header"),
    metadata: json(parts[2], "metadata"),
    content: json(parts[3], "content"),
    buffers: frames.slice(at + 6),
  };
}

/** Serializes and signs a message into frames. */
export function encode(msg: Message<unknown>, key: string): Buffer[] {
  const parts = [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) => Buffer.from(JSON.stringify(p), "utf8"));
  return [...msg.identities, DELIMITER, Buffer.from(sign(key, parts)), ...parts, ...msg.buffers];
}

/** A new message in reply to (or caused by) `parent`. */
export function child<C>(parent: Message<unknown> | undefined, msgType: string, content: C, session: string, identities: Buffer[] = []): Message<C> {
  return {
    identities,
    header: {
      msg_id: randomUUID(),
      session,
      username: parent?.header.username ?? "tslm",
      date: new Date().toISOString(),
      msg_type: msgType,
      version: PROTOCOL_VERSION,
    },
    parent_header: parent?.header ?? {},
    metadata: {},
    content,
    buffers: [],
  };
}

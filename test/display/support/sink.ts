/** A recording display sink, standing in for the kernel's IOPub socket. */
import { setDisplaySink, type DisplaySink, type MimeBundle } from "../../../lib/display/index.js";

export interface Published {
  data: MimeBundle;
  displayId?: string;
  update?: boolean;
}

export function recordingSink(): { published: Published[]; tracked: Promise<unknown>[]; install(): void; remove(): void } {
  const published: Published[] = [];
  const tracked: Promise<unknown>[] = [];
  const sink: DisplaySink = {
    publish: (data, o) => published.push({ data, displayId: o.displayId, update: o.update }),
    track: (w) => tracked.push(w),
  };
  return { published, tracked, install: () => setDisplaySink(sink), remove: () => setDisplaySink(undefined) };
}

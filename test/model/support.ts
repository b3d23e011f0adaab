/**
 * Test setup shared by the model specs: the backend, temporary folders and
 * array comparison live in test/support (shared by every subsystem's specs).
 */
export { setupBackend, maxAbsDiff } from "../support/backend.js";
export { tempDir } from "../support/tmp.js";

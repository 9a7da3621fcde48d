export { runQueueMode } from "../sources/queue/mode.ts";

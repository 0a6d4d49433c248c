// Starts runware-mock for the whole vitest run and stops it at the end; the tests read its
// WebSocket URL with inject("runwareUrl").
//
//   RUNWARE_URL=wss://...       use a server that is already running (the emulator or not)
//   RUNWARE_MOCK_IMAGE=IMAGE    run the container image with Testcontainers (Docker, or any
//                               Docker API: DOCKER_HOST)
//   otherwise                   the `runware-mock` command (RUNWARE_MOCK_COMMAND to name another)
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { GenericContainer, Wait } from "testcontainers";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    runwareUrl: string;
  }
}

interface Started {
  url: string; // http://HOST:PORT/v1
  stop: () => Promise<void>;
}

const START_TIMEOUT_MS = 60_000;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.RUNWARE_URL) {
    project.provide("runwareUrl", process.env.RUNWARE_URL);
    return async () => {};
  }
  const image = process.env.RUNWARE_MOCK_IMAGE;
  const started = image ? await startContainer(image) : await startCommand();
  try {
    await waitUntilHealthy(started.url);
  } catch (failure) {
    await started.stop();
    throw failure;
  }
  project.provide("runwareUrl", started.url.replace(/^http/, "ws"));
  return started.stop;
}

/** `runware-mock serve` on a free port with a temporary data dir; its banner names the URL. */
async function startCommand(): Promise<Started> {
  const command = process.env.RUNWARE_MOCK_COMMAND ?? "runware-mock";
  const server = spawn(command, ["serve", "--port", "0", "--ephemeral", "--latency", "instant"], {
    stdio: ["ignore", "inherit", "pipe"],
  });
  const exited = once(server, "exit");
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill("SIGTERM");
      await exited;
    }
  };
  const failed = once(server, "error").then(([error]) => {
    throw new Error(`cannot start ${command} (is runware-mock installed? RUNWARE_MOCK_COMMAND names it): ${error}`);
  });
  // Every line of the server's log is echoed (and so drained); the banner's names the URL.
  const banner = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server.stderr! });
    lines.on("line", (line) => {
      process.stderr.write(`${line}\n`);
      const found = /: serving (http:\/\/\S+\/v1)/.exec(line);
      if (found) resolve(found[1]);
    });
    lines.on("close", () => reject(new Error(`${command} exited before serving (its output is above)`)));
  });
  try {
    return { url: await Promise.race([banner, failed]), stop };
  } catch (failure) {
    await stop();
    throw failure;
  }
}

/** The image with Testcontainers, on a free local port the videos' URLs name (RUNWARE_MOCK_PUBLIC_URL). */
async function startContainer(image: string): Promise<Started> {
  const port = await freePort();
  const container = await new GenericContainer(image)
    .withExposedPorts({ container: 8787, host: port })
    .withEnvironment({ RUNWARE_MOCK_PUBLIC_URL: `http://127.0.0.1:${port}`, RUNWARE_MOCK_LATENCY: "instant" })
    .withWaitStrategy(Wait.forHttp("/__admin/health", 8787))
    .start();
  return {
    url: `http://127.0.0.1:${port}/v1`,
    stop: async () => {
      await container.stop();
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no free port");
  return address.port;
}

/** /__admin/health answers without the admin token once the server accepts requests. */
async function waitUntilHealthy(url: string): Promise<void> {
  const health = url.replace(/\/v1$/, "/__admin/health");
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    try {
      if ((await fetch(health)).ok) return;
    } catch {
      // not accepting yet
    }
    if (Date.now() > deadline) throw new Error(`runware-mock did not answer on ${health}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

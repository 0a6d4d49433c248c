import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Starts runware-mock before the first test file and stops it after the last.
    globalSetup: ["./test/global-setup.ts"],
    // The first video is rendered on its first download: give it more than the default 5 s.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // No results cache in node_modules: two runs at once (the CLI's and the image's) share it.
    cache: false,
  },
});

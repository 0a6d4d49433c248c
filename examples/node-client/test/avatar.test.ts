import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { AVATAR_MODEL, type Client, connect, makeAvatarVideo } from "../src/avatar.js";

// The inputs of Runware's own examples: runware-mock serves them from its shipped copies.
const PORTRAIT = "https://assets.runware.ai/assets/inputs/b06de116-9865-4f69-85aa-47389348df02.jpg";
const VOICE = "https://assets.runware.ai/assets/inputs/f7e9776d-d6d9-40d3-aa53-120611f4b9c8.mp3";

describe("an avatar video through @runware/sdk-js", () => {
  let client: Client;

  beforeAll(async () => {
    client = await connect("any-key", inject("runwareUrl"));
  });

  afterAll(async () => {
    await client?.disconnect();
  });

  it("makes a video that downloads as an MP4, with its cost", async () => {
    const video = await makeAvatarVideo(client, { image: PORTRAIT, audio: VOICE, prompt: "A calm talking head." });
    expect(video.taskUUID).toMatch(/^[0-9a-f-]{36}$/);
    expect(video.cost).toBeGreaterThan(0);
    const download = await fetch(video.videoURL);
    expect(download.status).toBe(200);
    expect(download.headers.get("content-type")).toBe("video/mp4");
    const bytes = new Uint8Array(await download.arrayBuffer());
    // An MP4 file opens with its ftyp box: 4 bytes of size, then "ftyp".
    expect(new TextDecoder().decode(bytes.subarray(4, 8))).toBe("ftyp");
  });

  it("is refused a model the service does not have, with Runware's error code", async () => {
    const refusal = await makeAvatarVideo(client, { image: PORTRAIT, audio: VOICE, model: "klingai:avatar@3" }).then(
      () => null,
      (rejection: unknown) => rejection as { error?: { code?: string; parameter?: string } },
    );
    expect(refusal?.error?.code).toBe("invalidModel");
    expect(refusal?.error?.parameter).toBe("model");
  });
});

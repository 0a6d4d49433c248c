// A talking-avatar video through the official Runware SDK: what an application would ship.
// Nothing here knows about the emulator: the tests only point `url` at it.
import { type IVideoToImage, Runware } from "@runware/sdk-js";

export const AVATAR_MODEL = "klingai:avatar@2.0-standard";

export interface AvatarRequest {
  /** The portrait: a URL, a data URI or an uploaded image's UUID. */
  image: string;
  /** The voice track, 2 to 300 s: a URL, a data URI or an uploaded media UUID. */
  audio: string;
  prompt?: string;
  model?: string;
}

export interface AvatarVideo {
  taskUUID: string;
  videoURL: string;
  cost?: number;
}

export type Client = Awaited<ReturnType<typeof Runware.initialize>>;

/** A connected client; `url` is the Runware WebSocket URL (wss://ws-api.runware.ai/v1 in production). */
export async function connect(apiKey: string, url?: string): Promise<Client> {
  return Runware.initialize({ apiKey, ...(url ? { url } : {}) });
}

/** One video made and waited for (the SDK polls getResponse until it is ready). */
export async function makeAvatarVideo(client: Client, request: AvatarRequest): Promise<AvatarVideo> {
  const videos = await client.videoInference({
    model: request.model ?? AVATAR_MODEL,
    positivePrompt: request.prompt,
    includeCost: true,
    inputs: { image: request.image, audio: request.audio },
  });
  const video: IVideoToImage | undefined = Array.isArray(videos) ? videos[0] : videos;
  if (!video?.videoURL) {
    throw new Error(`no video in the answer: ${JSON.stringify(videos)}`);
  }
  return { taskUUID: video.taskUUID, videoURL: video.videoURL, cost: video.cost };
}

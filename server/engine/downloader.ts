import { createModelDownloader, type ModelDownloader } from 'node-llama-cpp';

export type { ModelDownloader };

export interface DownloadProgress {
  downloadedSize: number;
  totalSize: number;
  averageSpeed: number;
}

/** node-llama-cpp's downloader (ipull: parallel connections, resumable) for one model URI into a folder. */
export function createDownloader(options: {
  modelUri: string;
  dirPath: string;
  onProgress: (status: DownloadProgress) => void;
}): Promise<ModelDownloader> {
  return createModelDownloader({
    modelUri: options.modelUri,
    dirPath: options.dirPath,
    deleteTempFileOnCancel: false,
    parallelDownloads: 4,
    onProgress: options.onProgress,
  });
}

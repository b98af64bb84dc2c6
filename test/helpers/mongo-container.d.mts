export declare const MONGO_IMAGE: string;
export declare function containerMongo(): Promise<{ url: string; description: string; stop: () => Promise<unknown>; skipped?: undefined } | { skipped: string; url?: undefined }>;

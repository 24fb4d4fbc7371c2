// Header-only module; this file exists because SwiftPM wants a source file per C target.

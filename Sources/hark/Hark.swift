import ArgumentParser
@main struct Hark: AsyncParsableCommand {}

from flightdeck.notifier.entrypoints.main import main

main()

from flightdeck.prober.entrypoints.main import main

main()

from flightdeck.orchestrator.entrypoints.main import main

main()
